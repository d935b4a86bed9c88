/* SPDX-License-Identifier: MPL-2.0 */
/* Assertions that stay on in release builds: a broken invariant logs file:line and aborts. */
#ifndef CORE_ASSERT_H
#define CORE_ASSERT_H

__attribute__((noreturn, cold)) void core_assert_fail(const char *expr, const char *file,
						      int line, const char *func);

/* Only for invariants our own code maintains; input from outside is validated, never asserted. */
#define ASSERT(expr)                                                                               \
	((expr) ? (void)0 : core_assert_fail(#expr, __FILE__, __LINE__, __func__))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
