/* Messages to the user, in one place so that every command reports the same way. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "commands.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: error: ", cli_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: warning: ", cli_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
