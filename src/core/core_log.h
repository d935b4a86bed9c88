/* SPDX-License-Identifier: MPL-2.0 */
/* Logging: level macros that skip formatting below the threshold; stderr and/or syslog. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum core_log_level {
	CORE_LOG_ERR = 3, /* syslog priorities */
	CORE_LOG_WARN = 4,
	CORE_LOG_NOTICE = 5,
	CORE_LOG_INFO = 6,
	CORE_LOG_DEBUG = 7,
};

extern int core_log_level_max; /* lines above this level are skipped (default INFO) */

/*
 * Where lines go. ident is borrowed (must outlive logging). facility is a syslog facility
 * (LOG_DAEMON...) or -1 for none; to_stderr adds stderr. Call once from main, before threads.
 */
void core_log_open(const char *ident, bool to_stderr, int facility);
void core_log_close(void);

void core_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CORE_LOG(level, ...)                                                                       \
	do {                                                                                       \
		if ((level) <= core_log_level_max)                                                 \
			core_log_write((level), __VA_ARGS__);                                      \
	} while (0)
#define CLOG_ERR(...) CORE_LOG(CORE_LOG_ERR, __VA_ARGS__)
#define CLOG_WARN(...) CORE_LOG(CORE_LOG_WARN, __VA_ARGS__)
#define CLOG_NOTICE(...) CORE_LOG(CORE_LOG_NOTICE, __VA_ARGS__)
#define CLOG_INFO(...) CORE_LOG(CORE_LOG_INFO, __VA_ARGS__)
#define CLOG_DEBUG(...) CORE_LOG(CORE_LOG_DEBUG, __VA_ARGS__)

/*
 * Rate limit for lines a remote party can trigger: at most burst lines per interval; the
 * rest are counted and reported with the next line that passes. Not thread-safe: one per
 * loop or thread.
 */
struct core_ratelimit {
	int64_t interval_ms;
	uint32_t burst;
	int64_t window_start_ms;
	uint32_t passed;
	uint64_t suppressed;
};

#define CORE_RATELIMIT_INIT(interval, n) {.interval_ms = (interval), .burst = (n)}

/* True when a line may be logged now (now_ms from a monotonic clock). */
bool core_ratelimit_ok(struct core_ratelimit *rl, int64_t now_ms);

#define CLOG_RL(rl, now_ms, level, ...)                                                             \
	do {                                                                                       \
		if ((level) <= core_log_level_max && core_ratelimit_ok((rl), (now_ms)))            \
			core_log_write((level), __VA_ARGS__);                                      \
	} while (0)

#endif
