/*
 * child: runs a piece of a unit test in a forked child, for the checks that an assert() aborts
 * (an illegal state move). The child's stderr is silenced: the assert's message would only
 * clutter the test output. Include it after <cmocka.h>.
 */
#ifndef CMMO_TEST_CHILD_H
#define CMMO_TEST_CHILD_H

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn(arg) in a child that exits with fn's result. Returns the signal that ended the child,
 * or 0 if it exited with 0 (any other exit status fails the test). */
static int run_in_child(int (*fn)(const void *arg), const void *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        _exit(fn(arg));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) return WTERMSIG(status);
    assert_int_equal(WEXITSTATUS(status), 0);
    return 0;
}

#endif
