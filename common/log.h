/*
 * log.h - leveled logging to stderr.
 *
 * The macros test the level before any argument is evaluated or formatted.
 * Never pass a secret key, token or signature to these functions.
 */
#ifndef LCR_LOG_H
#define LCR_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

extern int log_threshold;

/* Parse "error", "warn", "info" or "debug"; return -1 for anything else. */
int log_level_parse(const char *name);

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write one access-log line, which is never filtered by level. */
void log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) do { if (log_threshold >= LOG_LEVEL_ERROR) log_write(LOG_LEVEL_ERROR, __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (log_threshold >= LOG_LEVEL_WARN) log_write(LOG_LEVEL_WARN, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_threshold >= LOG_LEVEL_INFO) log_write(LOG_LEVEL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_threshold >= LOG_LEVEL_DEBUG) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

/* Copy src into dst (size dstlen) with quotes, backslashes and control
 * bytes escaped, so client-controlled values cannot forge log lines. */
void log_escape(char *dst, size_t dstlen, const char *src);

#endif
