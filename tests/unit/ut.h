/* SPDX-License-Identifier: MIT */
/*
 * Glue for the CUnit unit tests: each binary registers one suite and its
 * main() returns the number of failed tests (CU_basic_run_tests() alone
 * reports success even when tests fail).  $UT_ONLY runs only the tests
 * whose names hold it.  The last line, "RESULT <suite>
 * <passed> <failed>", is what `make check` adds up.
 */
#ifndef UBT_UT_H
#define UBT_UT_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ut_case {
	const char *name;
	void (*fn)(void);
};

#define UT(fn)	{ #fn, fn }

static inline int ut_run(const char *suite_name, const struct ut_case *cases, size_t n)
{
	CU_pSuite suite;
	unsigned int run, failed;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, NULL, NULL);
	/* $UT_ONLY: only the tests whose names hold it (to run one again and again). */
	for (i = 0; i < n; i++)
		if (!getenv("UT_ONLY") || strstr(cases[i].name, getenv("UT_ONLY")))
			CU_add_test(suite, cases[i].name, cases[i].fn);
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	printf("RESULT %s %u %u\n", suite_name, run - failed, failed);
	return (int)failed;
}

#define UT_MAIN(suite, ...)						\
	int main(void)							\
	{								\
		static const struct ut_case cases[] = { __VA_ARGS__ };	\
		return ut_run(suite, cases, sizeof(cases) / sizeof(cases[0])); \
	}

#endif
