/* error: the names and texts of cmmo's error codes (the convention is in error.h). */
#include "core/error.h"

#include <uv.h>

#define CMMO_ERROR_TEXT_(name, text) text,
static const char *const error_text[CMMO_ERROR_COUNT] = {CMMO_ERRORS(CMMO_ERROR_TEXT_)};
#undef CMMO_ERROR_TEXT_

#define CMMO_ERROR_NAME_(name, text) "E" #name,
static const char *const error_name[CMMO_ERROR_COUNT] = {CMMO_ERRORS(CMMO_ERROR_NAME_)};
#undef CMMO_ERROR_NAME_

/* libuv names only the codes of its own table and leaks a small buffer for any other ("Unknown
 * system error"); asking it only about codes of that table (UV_ERRNO_MAP) keeps both functions
 * allocation-free whatever int a caller passes. */
static bool is_system_error(int code)
{
    switch (code) {
#define CMMO_UV_CASE_(name, text) case UV_##name:
        UV_ERRNO_MAP(CMMO_UV_CASE_)
#undef CMMO_UV_CASE_
        return true;
    default:
        return false;
    }
}

const char *cmmo_strerror(int code)
{
    if (code == 0) return "ok";
    if (cmmo_error_is_own(code)) return error_text[CMMO_ERROR_FIRST - code];
    if (is_system_error(code)) return uv_strerror(code);
    return "unknown error";
}

const char *cmmo_err_name(int code)
{
    if (code == 0) return "OK";
    if (cmmo_error_is_own(code)) return error_name[CMMO_ERROR_FIRST - code];
    if (is_system_error(code)) return uv_err_name(code);
    return "EUNKNOWN";
}
