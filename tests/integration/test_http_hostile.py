"""The HTTP side of the port against the attacks of issue 11, over a real socket: a symlinked
directory in the web root (docs/SECURITY.md section 3, docs/PROTOCOL.md section 1)."""

import os
import shutil
import tempfile

from harness import ServerTestCase, http_get


class HttpHostile(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        d = tempfile.mkdtemp(prefix="cmmo-web-")
        cls.base = d
        web = os.path.join(d, "web")
        os.makedirs(os.path.join(web, "sub"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><p>hostile index 16309</p>\n")
        with open(os.path.join(web, "sub", "page.txt"), "w") as f:
            f.write("inside 48151\n")
        with open(os.path.join(d, "secret.txt"), "w") as f:
            f.write("TOP SECRET 62342\n")
        os.symlink("..", os.path.join(web, "linkdir"))
        os.symlink("sub", os.path.join(web, "alias"))
        cls.server_options = {"web_root": web}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.base, ignore_errors=True)

    # ---- 5: symlinks

    def test_symlinked_directory_does_not_serve_files_outside_the_root(self):
        for path in ("/linkdir/secret.txt", "/linkdir/web/index.html", "/alias/page.txt"):
            status, _, body = http_get(self.server.port, path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"TOP SECRET", body, path)
        status, _, body = http_get(self.server.port, "/sub/page.txt")
        self.assertEqual((status, body), (200, b"inside 48151\n"))


if __name__ == "__main__":
    import unittest
    unittest.main()
