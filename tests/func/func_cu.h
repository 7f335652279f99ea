/* SPDX-License-Identifier: MIT */
/* Checks the CUnit functional tests share (func_util.h has the helpers without CUnit). */
#ifndef UBT_FUNC_CU_H
#define UBT_FUNC_CU_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "func_util.h"
#include "ut.h"

/* The table is refused with a message holding msg. */
static inline void func_expect_table_error(const char *table, const char *msg)
{
	char spec[8192], err[512];

	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "%s", table), -EINVAL);
	if (!strstr(err, msg))
		fprintf(stderr, "\n  %s: got '%s', wanted '%s'\n", table, err, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
}

/* table -> spec -> tree -> table gives the table back. */
static inline void func_expect_roundtrip(const char *table)
{
	char err[1024];

	if (func_table_roundtrip(table, err, sizeof(err)))
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL(func_table_roundtrip(table, err, sizeof(err)), 0);
}

#endif
