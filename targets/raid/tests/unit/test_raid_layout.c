// SPDX-License-Identifier: MIT
/*
 * Unit tests for the parity RAID's layout.c and parity.c: rows md's
 * documentation and code spell out (raid5 left-symmetric's rotation, the
 * raid6 Q orderings that are not the chunk order), every layout placing
 * each row's data, P and Q on distinct legs and each data chunk once, and
 * P and Q against a byte-by-byte GF(2^8) model (polynomial 0x11d,
 * generator 2), then every loss the parity covers rebuilt exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "targets/raid/layout.c"
#include "targets/raid/parity.c"
#include "ubt/util.h"
#include "ut.h"

static struct raid_geom geom(unsigned int level, enum raid_algo algo, unsigned int disks)
{
	struct raid_geom g = { .level = level, .algo = algo, .disks = disks,
			       .data = disks - (level == 6 ? 2 : 1), .chunk = 128 };

	return g;
}

/* raid5 left-symmetric on 3 legs: [D0 D1 P] [D1 P D0] [P D0 D1], then again. */
static void test_raid5_left_symmetric_rows(void)
{
	static const int want[3][3] = { { 0, 1, -1 }, { 1, -1, 0 }, { -1, 0, 1 } };
	struct raid_geom g = geom(5, RAID_LEFT_SYMMETRIC, 3);
	struct raid_row row;
	unsigned int r, leg;

	for (r = 0; r < 6; r++) {
		raid_row_map(&g, r, &row);
		for (leg = 0; leg < 3; leg++) {
			int k = want[r % 3][leg];

			if (k < 0) {
				CU_ASSERT_EQUAL(row.pd, leg);
			} else {
				CU_ASSERT_EQUAL(row.disk[k], leg);
			}
		}
	}
}

/* The other raid5/raid4 layouts on 4 legs, row 1 (where they differ). */
static void test_raid5_layouts_row_one(void)
{
	static const struct {
		unsigned int level;
		enum raid_algo algo;
		int legs[4];		/* data index per leg, -1 P */
	} cases[] = {
		/* left: P on leg 3 - 1 = 2; asymmetric fills left to right. */
		{ 5, RAID_LEFT_ASYMMETRIC, { 0, 1, -1, 2 } },
		/* symmetric starts after P and wraps. */
		{ 5, RAID_LEFT_SYMMETRIC, { 1, 2, -1, 0 } },
		/* right: P on leg 1. */
		{ 5, RAID_RIGHT_ASYMMETRIC, { 0, -1, 1, 2 } },
		{ 5, RAID_RIGHT_SYMMETRIC, { 2, -1, 0, 1 } },
		{ 5, RAID_PARITY_0, { -1, 0, 1, 2 } },
		{ 5, RAID_PARITY_N, { 0, 1, 2, -1 } },
		{ 4, RAID_PARITY_0, { -1, 0, 1, 2 } },
	};
	unsigned int c, leg;

	for (c = 0; c < UBT_ARRAY_SIZE(cases); c++) {
		struct raid_geom g = geom(cases[c].level, cases[c].algo, 4);
		struct raid_row row;

		raid_row_map(&g, 1, &row);
		for (leg = 0; leg < 4; leg++) {
			int k = cases[c].legs[leg];

			if (k < 0) {
				CU_ASSERT_EQUAL(row.pd, leg);
			} else {
				CU_ASSERT_EQUAL(row.disk[k], leg);
			}
		}
	}
}

/*
 * raid6's Q numbers its sources from the leg after Q: for left-asymmetric
 * on 4 legs, row 2 has P on leg 1, Q on leg 2, D0 on leg 0 and D1 on leg 3,
 * and D1 is Q's first source.  left-symmetric-6 on 5 legs, row 1: P on leg
 * 2, Q on leg 4, D1 on 0 (g^0), D2 on 1 (g^1), D0 on 3 (g^2).  The DDF
 * layouts number sources by leg.
 */
static void test_raid6_q_order(void)
{
	struct raid_geom g = geom(6, RAID_LEFT_ASYMMETRIC, 4);
	struct raid_row row;

	raid_row_map(&g, 2, &row);
	CU_ASSERT_EQUAL(row.pd, 1);
	CU_ASSERT_EQUAL(row.qd, 2);
	CU_ASSERT_EQUAL(row.disk[0], 0);
	CU_ASSERT_EQUAL(row.disk[1], 3);
	CU_ASSERT_EQUAL(row.slot[1], 0);
	CU_ASSERT_EQUAL(row.slot[0], 1);

	g = geom(6, RAID_LEFT_SYMMETRIC_6, 5);
	raid_row_map(&g, 1, &row);
	CU_ASSERT_EQUAL(row.pd, 2);
	CU_ASSERT_EQUAL(row.qd, 4);
	CU_ASSERT_EQUAL(row.disk[0], 3);
	CU_ASSERT_EQUAL(row.disk[1], 0);
	CU_ASSERT_EQUAL(row.disk[2], 1);
	CU_ASSERT_EQUAL(row.slot[1], 0);
	CU_ASSERT_EQUAL(row.slot[2], 1);
	CU_ASSERT_EQUAL(row.slot[0], 2);

	/* zero-restart = right-asymmetric's placement; row 0: P 0, Q 1, data on 2, 3, 4. */
	g = geom(6, RAID_ROTATING_ZERO_RESTART, 5);
	raid_row_map(&g, 0, &row);
	CU_ASSERT_EQUAL(row.pd, 0);
	CU_ASSERT_EQUAL(row.qd, 1);
	CU_ASSERT_EQUAL(row.disk[0], 2);
	CU_ASSERT_EQUAL(row.nr_slots, 5);
	CU_ASSERT_EQUAL(row.slot[0], 2);
	CU_ASSERT_EQUAL(row.slot[2], 4);
	/* N-restart's first row is D D D P Q. */
	g = geom(6, RAID_ROTATING_N_RESTART, 5);
	raid_row_map(&g, 0, &row);
	CU_ASSERT_EQUAL(row.pd, 3);
	CU_ASSERT_EQUAL(row.qd, 4);
	CU_ASSERT_EQUAL(row.disk[0], 0);
	/* N-continue: Q just before P. */
	g = geom(6, RAID_ROTATING_N_CONTINUE, 5);
	raid_row_map(&g, 0, &row);
	CU_ASSERT_EQUAL(row.pd, 4);
	CU_ASSERT_EQUAL(row.qd, 3);
	CU_ASSERT_EQUAL(row.disk[0], 0);
}

/* Every layout, 3..9 legs, 40 rows: a row's legs are all distinct, chunks map back. */
static void test_every_layout_is_a_permutation(void)
{
	const struct raid_layout_name *l;
	unsigned int disks, r, k;

	for (l = raid_layouts; l->name; l++) {
		for (disks = l->level == 6 ? 4 : 3; disks <= 9; disks++) {
			struct raid_geom g = geom(l->level, l->algo, disks);

			for (r = 0; r < 40; r++) {
				struct raid_row row;
				uint32_t seen = 0, slots = 0;

				raid_row_map(&g, r, &row);
				seen |= 1u << row.pd;
				if (l->level == 6) {
					CU_ASSERT(row.qd != row.pd && row.qd < disks);
					seen |= 1u << row.qd;
				}
				for (k = 0; k < g.data; k++) {
					uint64_t rr;

					CU_ASSERT(!(seen & (1u << row.disk[k])));
					seen |= 1u << row.disk[k];
					CU_ASSERT_EQUAL(row.index[row.disk[k]], k);
					CU_ASSERT_EQUAL(raid_chunk_disk(&g, r * g.data + k, &rr),
							row.disk[k]);
					CU_ASSERT_EQUAL(rr, r);
					CU_ASSERT(row.slot[k] < row.nr_slots);
					CU_ASSERT(!(slots & (1u << row.slot[k])));
					slots |= 1u << row.slot[k];
				}
				CU_ASSERT_EQUAL(seen, (1u << disks) - 1);
			}
		}
	}
}

static void test_layout_names(void)
{
	CU_ASSERT_EQUAL(raid_layout_by_dm("raid4")->level, 4);
	CU_ASSERT_EQUAL(raid_layout_by_dm("raid5_n")->level, 5);
	CU_ASSERT_EQUAL(raid_layout_by_dm("RAID6_ZR")->algo, RAID_ROTATING_ZERO_RESTART);
	CU_ASSERT_PTR_NULL(raid_layout_by_dm("raid5"));
	CU_ASSERT_PTR_NULL(raid_layout_by_dm("raid"));
	CU_ASSERT_PTR_NULL(raid_layout_find(5, "ddf-zero-restart"));
	CU_ASSERT_EQUAL(raid_layout_find(6, "left-symmetric")->algo, RAID_LEFT_SYMMETRIC);
}

/* GF(2^8) with md's polynomial, one byte at a time: the model. */
static uint8_t gf_mul2(uint8_t v)
{
	return (uint8_t)((v << 1) ^ (v & 0x80 ? 0x1d : 0));
}

static uint8_t gf_pow2_times(unsigned int e, uint8_t v)
{
	while (e--)
		v = gf_mul2(v);
	return v;
}

#define LEN 4096

/* Random legs for row `r`; P and Q checked byte by byte against the model. */
static void check_gen(const struct raid_geom *g, unsigned int r, void **bufs, void *zero)
{
	struct raid_row row;
	unsigned int i, k;

	raid_row_map(g, r, &row);
	for (i = 0; i < g->disks; i++)
		for (k = 0; k < LEN; k++)
			((uint8_t *)bufs[i])[k] = (uint8_t)random();
	raid_parity_gen(g, &row, bufs, LEN, zero);
	for (i = 0; i < LEN; i++) {
		uint8_t p = 0, q = 0;

		for (k = 0; k < g->data; k++) {
			uint8_t d = ((uint8_t *)bufs[row.disk[k]])[i];

			p ^= d;
			q ^= gf_pow2_times(row.slot[k], d);
		}
		CU_ASSERT_EQUAL_FATAL(((uint8_t *)bufs[row.pd])[i], p);
		if (g->level == 6)
			CU_ASSERT_EQUAL_FATAL(((uint8_t *)bufs[row.qd])[i], q);
	}
}

static void test_parity_and_rebuild(void)
{
	const struct raid_layout_name *l;
	void *bufs[RAID_MAX_LEGS], *copy[RAID_MAX_LEGS], *scratch[2], *zero;
	unsigned int disks, i, a, b, r;

	raid_parity_init();
	srandom(7);
	zero = aligned_alloc(64, LEN);
	memset(zero, 0, LEN);
	for (i = 0; i < RAID_MAX_LEGS; i++) {
		bufs[i] = aligned_alloc(64, LEN);
		copy[i] = aligned_alloc(64, LEN);
	}
	scratch[0] = aligned_alloc(64, LEN);
	scratch[1] = aligned_alloc(64, LEN);
	for (l = raid_layouts; l->name; l++) {
		for (disks = l->level == 6 ? 4 : 3; disks <= 8; disks += 2) {
			struct raid_geom g = geom(l->level, l->algo, disks);

			for (r = 0; r < 3; r++) {
				struct raid_row row;
				size_t where;

				raid_row_map(&g, r, &row);
				check_gen(&g, r, bufs, zero);
				CU_ASSERT(raid_parity_ok(&g, &row, bufs, LEN, scratch, zero, &where));
				for (i = 0; i < disks; i++)
					memcpy(copy[i], bufs[i], LEN);
				/* Every single loss, and for raid6 every double one. */
				for (a = 0; a < disks; a++) {
					for (b = l->level == 6 ? a : disks; b <= disks; b++) {
						uint32_t miss = 1u << a;

						if (b < disks && b != a)
							miss |= 1u << b;
						else if (b < disks)
							continue;
						for (i = 0; i < disks; i++)
							if (miss & (1u << i))
								memset(bufs[i], 0xa5, LEN);
						raid_parity_rebuild(&g, &row, bufs, LEN, miss, scratch,
								    zero);
						for (i = 0; i < disks; i++)
							CU_ASSERT_FATAL(!memcmp(bufs[i], copy[i], LEN));
					}
				}
				/* A flipped byte shows. */
				((uint8_t *)bufs[row.disk[0]])[100] ^= 1;
				CU_ASSERT(!raid_parity_ok(&g, &row, bufs, LEN, scratch, zero, &where));
				CU_ASSERT_EQUAL(where, 100);
			}
		}
	}
	for (i = 0; i < RAID_MAX_LEGS; i++) {
		free(bufs[i]);
		free(copy[i]);
	}
	free(scratch[0]);
	free(scratch[1]);
	free(zero);
}

/* The RMW delta: P ^= old ^ new and Q ^= g^slot (old ^ new) equal a fresh P and Q. */
static void test_q_delta_matches_fresh_parity(void)
{
	struct raid_geom g = geom(6, RAID_LEFT_ASYMMETRIC, 6);
	void *bufs[6], *zero = aligned_alloc(64, LEN), *d = aligned_alloc(64, LEN);
	void *p = aligned_alloc(64, LEN), *q = aligned_alloc(64, LEN);
	struct raid_row row;
	unsigned int i, k = 2;

	raid_parity_init();
	memset(zero, 0, LEN);
	for (i = 0; i < 6; i++)
		bufs[i] = aligned_alloc(64, LEN);
	raid_row_map(&g, 3, &row);
	check_gen(&g, 3, bufs, zero);
	memcpy(p, bufs[row.pd], LEN);
	memcpy(q, bufs[row.qd], LEN);
	for (i = 0; i < LEN; i++)
		((uint8_t *)d)[i] = (uint8_t)random();
	/* d = old ^ new, folded in; then the chunk becomes new. */
	raid_xor_into(p, d, LEN);
	raid_q_delta(q, d, LEN, row.slot[k]);
	raid_xor_into(bufs[row.disk[k]], d, LEN);
	raid_parity_gen(&g, &row, bufs, LEN, zero);
	CU_ASSERT(!memcmp(p, bufs[row.pd], LEN));
	CU_ASSERT(!memcmp(q, bufs[row.qd], LEN));
	for (i = 0; i < 6; i++)
		free(bufs[i]);
	free(zero);
	free(d);
	free(p);
	free(q);
}

UT_MAIN("raid_layout", UT(test_raid5_left_symmetric_rows), UT(test_raid5_layouts_row_one),
	UT(test_raid6_q_order), UT(test_every_layout_is_a_permutation), UT(test_layout_names),
	UT(test_parity_and_rebuild), UT(test_q_delta_matches_fresh_parity))
