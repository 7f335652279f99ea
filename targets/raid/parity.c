// SPDX-License-Identifier: MIT
/*
 * P and Q over one column of buffers, on ISA-L (SIMD where the CPU has
 * it).  P is the xor of the data; Q is md's syndrome: the sum over
 * GF(2^8) (polynomial 0x11d, generator 2) of g^slot * data, slot as
 * raid_row_map() numbers the sources -- ISA-L's pq_gen computes exactly
 * that for sources in slot order.
 *
 * Rebuilding, for the legs that are missing (at most the parity count):
 *   one data leg with P:   the xor of every other leg;
 *   P or Q only:           generate it again;
 *   one data leg and P:    D = (Q + Q') / g^slot, Q' the syndrome with D as
 *                          zero; then P;
 *   two data legs x, y:    with P' and Q' the syndromes with both as zero,
 *                          Px = P + P' = Dx + Dy and Qx = Q + Q' =
 *                          g^a Dx + g^b Dy, so
 *                          Dx = (Qx + g^b Px) / (g^a + g^b), Dy = Px + Dx.
 */
#include <isa-l/erasure_code.h>
#include <isa-l/gf_vect_mul.h>
#include <isa-l/raid.h>
#include <pthread.h>
#include <string.h>

#include "raid.h"

static unsigned char gf_exp[256];		/* g^i */
static unsigned char mad_tbl[256][32];		/* ISA-L tables for "multiply by g^i and add" */
static pthread_once_t parity_once = PTHREAD_ONCE_INIT;

static void parity_tables(void)
{
	unsigned int i;
	unsigned char x = 1;

	for (i = 0; i < 256; i++) {
		gf_exp[i] = x;
		ec_init_tables(1, 1, &gf_exp[i], mad_tbl[i]);
		x = gf_mul(x, 2);
	}
}

void raid_parity_init(void)
{
	pthread_once(&parity_once, parity_tables);
}

void raid_xor_into(void *dst, const void *src, size_t len)
{
	/*
	 * dst is a source too: xor_gen reads each block of every source
	 * before it stores that block of the destination.
	 */
	void *v[3] = { dst, (void *)src, dst };

	xor_gen(3, (int)len, v);
}

void raid_xor_to(void *dst, const void *a, const void *b, size_t len)
{
	void *v[3] = { (void *)a, (void *)b, dst };

	xor_gen(3, (int)len, v);
}

void raid_q_delta(void *dst, const void *src, size_t len, unsigned int slot)
{
	gf_vect_mad((int)len, 1, 0, mad_tbl[slot], (unsigned char *)src, dst);
}

/* The syndrome's sources in slot order, zero where a slot has none or is left out. */
static void pq_sources(const struct raid_geom *g, const struct raid_row *row, void **bufs,
		       uint32_t leave_out, void *zero, void **v)
{
	unsigned int k, s;

	for (s = 0; s < row->nr_slots; s++)
		v[s] = zero;
	for (k = 0; k < g->data; k++)
		if (!(leave_out & (1u << row->disk[k])))
			v[row->slot[k]] = bufs[row->disk[k]];
}

/* P' and Q' into p, q with the legs in leave_out as zeroes. */
static void pq_into(const struct raid_geom *g, const struct raid_row *row, void **bufs,
		    size_t len, uint32_t leave_out, void *zero, void *p, void *q)
{
	void *v[RAID_MAX_LEGS + 2];

	pq_sources(g, row, bufs, leave_out, zero, v);
	v[row->nr_slots] = p;
	v[row->nr_slots + 1] = q;
	pq_gen(row->nr_slots + 2, (int)len, v);
}

/* dst = the xor of every leg's buffer but dst's own and those in skip. */
static void xor_legs(const struct raid_geom *g, void **bufs, size_t len, unsigned int dst,
		     uint32_t skip)
{
	void *v[RAID_MAX_LEGS + 1];
	unsigned int i, n = 0;

	for (i = 0; i < g->disks; i++)
		if (i != dst && !(skip & (1u << i)))
			v[n++] = bufs[i];
	if (n == 1) {
		memcpy(bufs[dst], v[0], len);
		return;
	}
	v[n++] = bufs[dst];
	xor_gen((int)n, (int)len, v);
}

void raid_parity_gen(const struct raid_geom *g, const struct raid_row *row, void **bufs,
		     size_t len, void *zero)
{
	if (g->level == 6)
		pq_into(g, row, bufs, len, 0, zero, bufs[row->pd], bufs[row->qd]);
	else
		xor_legs(g, bufs, len, row->pd, 0);
}

void raid_parity_rebuild(const struct raid_geom *g, const struct raid_row *row, void **bufs,
			 size_t len, uint32_t missing, void **scratch, void *zero)
{
	uint32_t pbit = 1u << row->pd, qbit = g->level == 6 ? 1u << row->qd : 0;
	uint32_t data = missing & ~(pbit | qbit);
	unsigned int x, y, a, b;
	unsigned char c[2], tbl[64], denom;

	if (!missing)
		return;
	if (g->level != 6) {
		xor_legs(g, bufs, len, (unsigned int)__builtin_ctz(missing), 0);
		return;
	}
	if (!data) {
		if ((missing & pbit) && (missing & qbit))
			raid_parity_gen(g, row, bufs, len, zero);
		else if (missing & pbit)
			xor_legs(g, bufs, len, row->pd, qbit);
		else
			pq_into(g, row, bufs, len, 0, zero, scratch[0], bufs[row->qd]);
		return;
	}
	x = (unsigned int)__builtin_ctz(data);
	if (!(missing & pbit) && !(data & (data - 1))) {
		/* One data leg, P there: the xor; then Q if it is missing too. */
		xor_legs(g, bufs, len, x, qbit);
		if (missing & qbit)
			pq_into(g, row, bufs, len, 0, zero, scratch[0], bufs[row->qd]);
		return;
	}
	if (missing & pbit) {
		/* One data leg and P: from Q. */
		a = row->slot[row->index[x]];
		pq_into(g, row, bufs, len, 1u << x, zero, scratch[0], scratch[1]);
		raid_xor_into(scratch[1], bufs[row->qd], len);
		gf_vect_mul_init(gf_inv(gf_exp[a]), tbl);
		gf_vect_mul((int)len, tbl, scratch[1], bufs[x]);
		xor_legs(g, bufs, len, row->pd, qbit);
		return;
	}
	/* Two data legs. */
	y = (unsigned int)__builtin_ctz(data & (data - 1));
	a = row->slot[row->index[x]];
	b = row->slot[row->index[y]];
	pq_into(g, row, bufs, len, data, zero, scratch[0], scratch[1]);
	raid_xor_into(scratch[0], bufs[row->pd], len);	/* Px = Dx + Dy */
	raid_xor_into(scratch[1], bufs[row->qd], len);	/* Qx = g^a Dx + g^b Dy */
	denom = gf_inv(gf_exp[a] ^ gf_exp[b]);
	c[0] = gf_mul(gf_exp[b], denom);
	c[1] = denom;
	ec_init_tables(2, 1, c, tbl);
	ec_encode_data((int)len, 2, 1, tbl, (unsigned char *[]){ scratch[0], scratch[1] },
		       (unsigned char *[]){ bufs[x] });
	xor_gen(3, (int)len, (void *[]){ scratch[0], bufs[x], bufs[y] });
}

bool raid_parity_ok(const struct raid_geom *g, const struct raid_row *row, void **bufs,
		    size_t len, void **scratch, void *zero, size_t *where)
{
	const unsigned char *have, *want;
	size_t i;
	int pass;

	if (g->level == 6) {
		pq_into(g, row, bufs, len, 0, zero, scratch[0], scratch[1]);
	} else {
		void *v[RAID_MAX_LEGS + 1];
		unsigned int k;

		for (k = 0; k < g->data; k++)
			v[k] = bufs[row->disk[k]];
		if (g->data == 1) {
			memcpy(scratch[0], v[0], len);
		} else {
			v[g->data] = scratch[0];
			xor_gen((int)g->data + 1, (int)len, v);
		}
	}
	for (pass = 0; pass < (g->level == 6 ? 2 : 1); pass++) {
		have = bufs[pass ? row->qd : row->pd];
		want = scratch[pass];
		if (!memcmp(have, want, len))
			continue;
		for (i = 0; i < len && have[i] == want[i]; i++)
			;
		*where = i;
		return false;
	}
	return true;
}

uint64_t raid_parity_mismatches(const struct raid_geom *g, const struct raid_row *row,
				void **bufs, size_t len, void **scratch, void *zero)
{
	const size_t page = 4096;
	uint64_t n = 0;
	size_t where, off;
	unsigned int pass;

	if (raid_parity_ok(g, row, bufs, len, scratch, zero, &where))
		return 0;
	/*
	 * raid_parity_ok left P (and Q) afresh in scratch.  md counts a
	 * mismatch per 4 KiB stripe of its stripe cache, as 8 sectors:
	 * dm-raid's mismatch count is that sum.
	 */
	for (off = 0; off < len; off += page)
		for (pass = 0; pass < (g->level == 6 ? 2u : 1u); pass++) {
			const char *have = (const char *)bufs[pass ? row->qd : row->pd] + off;
			size_t n_bytes = len - off < page ? len - off : page;

			if (memcmp(have, (const char *)scratch[pass] + off, n_bytes)) {
				n += page >> UBT_SECTOR_SHIFT;
				break;
			}
		}
	return n;
}
