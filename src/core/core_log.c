/* SPDX-License-Identifier: MPL-2.0 */
/* Log sink: formats a line once and writes it to stderr and/or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "core_assert.h"
#include "core_log.h"

int core_log_level_max = CORE_LOG_INFO;

static const char *log_ident = "paceless";
static bool log_stderr = true;
static bool log_syslog;

void core_log_open(const char *ident, bool to_stderr, int facility)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_syslog = facility >= 0;
	if (log_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void core_log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

/*
 * syslog(3) opens a new socket for every line while nothing listens on /dev/log (a
 * container, a network namespace test): look for the socket at most once a second instead.
 */
static bool syslog_present(void)
{
	static time_t checked;
	static bool present;
	struct stat st;
	time_t now = time(NULL);

	if (now != checked) {
		checked = now;
		present = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
	}
	return present;
}

void core_log_write(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog && syslog_present())
		syslog(level, "%s", line);
	if (log_stderr)
		fprintf(stderr, "%s: %s\n", log_ident, line);
}

bool core_ratelimit_ok(struct core_ratelimit *rl, int64_t now_ms)
{
	if (now_ms - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed && core_log_level_max >= CORE_LOG_NOTICE)
			core_log_write(CORE_LOG_NOTICE, "%llu similar log lines suppressed",
				       (unsigned long long)rl->suppressed);
		rl->window_start_ms = now_ms;
		rl->passed = 0;
		rl->suppressed = 0;
	}
	if (rl->passed < rl->burst) {
		rl->passed++;
		return true;
	}
	rl->suppressed++;
	return false;
}

void core_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	core_log_write(CORE_LOG_ERR, "assertion failed: %s at %s:%d in %s()", expr, file, line,
		       func);
	if (!log_stderr)
		fprintf(stderr, "assertion failed: %s at %s:%d in %s()\n", expr, file, line, func);
	abort();
}
