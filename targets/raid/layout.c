// SPDX-License-Identifier: MIT
/*
 * Where md puts each chunk: for data chunk c of an array of `disks` legs
 * with `data` data chunks per row, row = c / data and the chunk's index in
 * its row dd = c % data; the algorithm places P (and Q) in the row and
 * moves dd to a leg around them.  The rules are md's raid5_compute_sector()
 * for every algorithm it has, so that a leg written here holds what md
 * (and dm-raid, which runs md's code) would hold for the same layout and
 * chunk, sector for sector, from sector 0 of each leg.
 *
 * The rotating layouts turn by the row number modulo the legs:
 *   left:  parity starts on the last leg and moves left;
 *   right: parity starts on the first leg and moves right;
 *   asymmetric: data fills the legs left to right, skipping parity;
 *   symmetric: data starts on the leg after parity and wraps around.
 * raid6 puts Q on the leg after P (wrapping); the *_6 layouts are raid5's
 * over all but the last leg, with Q on the last; the DDF layouts
 * (rotating-zero/N-restart, N-continue) also number Q's sources by leg
 * rather than from the leg after Q.
 */
#include <string.h>
#include <strings.h>

#include "raid.h"

const struct raid_layout_name raid_layouts[] = {
	/* raid4: dm-raid's raid4 has parity on the first leg, md's on the last. */
	{ "parity-first",	"raid4",	4, RAID_PARITY_0 },
	{ "parity-last",	"raid5_n",	4, RAID_PARITY_N },
	{ "left-symmetric",	"raid5_ls",	5, RAID_LEFT_SYMMETRIC },
	{ "left-asymmetric",	"raid5_la",	5, RAID_LEFT_ASYMMETRIC },
	{ "right-symmetric",	"raid5_rs",	5, RAID_RIGHT_SYMMETRIC },
	{ "right-asymmetric",	"raid5_ra",	5, RAID_RIGHT_ASYMMETRIC },
	{ "parity-first",	"raid4",	5, RAID_PARITY_0 },
	{ "parity-last",	"raid5_n",	5, RAID_PARITY_N },
	{ "left-symmetric",	NULL,		6, RAID_LEFT_SYMMETRIC },
	{ "left-asymmetric",	NULL,		6, RAID_LEFT_ASYMMETRIC },
	{ "right-symmetric",	NULL,		6, RAID_RIGHT_SYMMETRIC },
	{ "right-asymmetric",	NULL,		6, RAID_RIGHT_ASYMMETRIC },
	{ "parity-first",	NULL,		6, RAID_PARITY_0 },
	{ "parity-last",	"raid6_n_6",	6, RAID_PARITY_N },
	{ "ddf-zero-restart",	"raid6_zr",	6, RAID_ROTATING_ZERO_RESTART },
	{ "ddf-N-restart",	"raid6_nr",	6, RAID_ROTATING_N_RESTART },
	{ "ddf-N-continue",	"raid6_nc",	6, RAID_ROTATING_N_CONTINUE },
	{ "left-asymmetric-6",	"raid6_la_6",	6, RAID_LEFT_ASYMMETRIC_6 },
	{ "right-asymmetric-6",	"raid6_ra_6",	6, RAID_RIGHT_ASYMMETRIC_6 },
	{ "left-symmetric-6",	"raid6_ls_6",	6, RAID_LEFT_SYMMETRIC_6 },
	{ "right-symmetric-6",	"raid6_rs_6",	6, RAID_RIGHT_SYMMETRIC_6 },
	{ "parity-first-6",	NULL,		6, RAID_PARITY_0_6 },
	{ NULL, NULL, 0, 0 },
};

const struct raid_layout_name *raid_layout_find(unsigned int level, const char *name)
{
	const struct raid_layout_name *l;

	for (l = raid_layouts; l->name; l++)
		if (l->level == level && !strcmp(l->name, name))
			return l;
	return NULL;
}

const struct raid_layout_name *raid_layout_of(unsigned int level, enum raid_algo algo)
{
	const struct raid_layout_name *l;

	for (l = raid_layouts; l->name; l++)
		if (l->level == level && l->algo == algo)
			return l;
	return NULL;
}

const struct raid_layout_name *raid_layout_by_dm(const char *dm_type)
{
	const struct raid_layout_name *l;

	/* The level the name says: raid5_n is raid5's parity-last, not raid4's. */
	unsigned int level;

	if (strncasecmp(dm_type, "raid", 4) || !dm_type[4])
		return NULL;
	level = (unsigned int)(dm_type[4] - '0');

	for (l = raid_layouts; l->name; l++)
		if (l->dm_type && l->level == level && !strcasecmp(l->dm_type, dm_type))
			return l;
	return NULL;
}

static bool is_ddf(enum raid_algo a)
{
	return a == RAID_ROTATING_ZERO_RESTART || a == RAID_ROTATING_N_RESTART ||
	       a == RAID_ROTATING_N_CONTINUE;
}

/* Data index dd of row `row`: its leg; P's and Q's legs in *pd, *qd. */
static unsigned int locate(const struct raid_geom *g, uint64_t row, unsigned int dd,
			   unsigned int *pd, unsigned int *qd)
{
	unsigned int n = g->disks, data = g->data, p, q = RAID_NO_DISK, d = dd;

	if (g->level != 6) {
		switch (g->algo) {
		case RAID_LEFT_ASYMMETRIC:
			p = data - (unsigned int)(row % n);
			d = dd >= p ? dd + 1 : dd;
			break;
		case RAID_RIGHT_ASYMMETRIC:
			p = (unsigned int)(row % n);
			d = dd >= p ? dd + 1 : dd;
			break;
		case RAID_LEFT_SYMMETRIC:
			p = data - (unsigned int)(row % n);
			d = (p + 1 + dd) % n;
			break;
		case RAID_RIGHT_SYMMETRIC:
			p = (unsigned int)(row % n);
			d = (p + 1 + dd) % n;
			break;
		case RAID_PARITY_0:
			p = 0;
			d = dd + 1;
			break;
		default:	/* RAID_PARITY_N */
			p = data;
			break;
		}
		*pd = p;
		*qd = q;
		return d;
	}
	switch (g->algo) {
	case RAID_LEFT_ASYMMETRIC:
	case RAID_RIGHT_ASYMMETRIC:
	case RAID_ROTATING_ZERO_RESTART:
	case RAID_ROTATING_N_RESTART:
		/* Asymmetric: data left to right around P and Q (Q right of P). */
		if (g->algo == RAID_LEFT_ASYMMETRIC)
			p = n - 1 - (unsigned int)(row % n);
		else if (g->algo == RAID_ROTATING_N_RESTART)
			p = n - 1 - (unsigned int)((row + 1) % n);
		else
			p = (unsigned int)(row % n);
		q = p + 1;
		if (p == n - 1) {
			d = dd + 1;
			q = 0;
		} else if (dd >= p) {
			d = dd + 2;
		}
		break;
	case RAID_LEFT_SYMMETRIC:
	case RAID_RIGHT_SYMMETRIC:
		p = g->algo == RAID_LEFT_SYMMETRIC ? n - 1 - (unsigned int)(row % n)
						   : (unsigned int)(row % n);
		q = (p + 1) % n;
		d = (p + 2 + dd) % n;
		break;
	case RAID_ROTATING_N_CONTINUE:
		/* Left-symmetric with Q before P. */
		p = n - 1 - (unsigned int)(row % n);
		q = (p + n - 1) % n;
		d = (p + 1 + dd) % n;
		break;
	case RAID_PARITY_0:
		p = 0;
		q = 1;
		d = dd + 2;
		break;
	case RAID_PARITY_N:
		p = data;
		q = data + 1;
		break;
	case RAID_LEFT_ASYMMETRIC_6:
	case RAID_RIGHT_ASYMMETRIC_6:
		p = g->algo == RAID_LEFT_ASYMMETRIC_6 ? data - (unsigned int)(row % (n - 1))
						      : (unsigned int)(row % (n - 1));
		d = dd >= p ? dd + 1 : dd;
		q = n - 1;
		break;
	case RAID_LEFT_SYMMETRIC_6:
	case RAID_RIGHT_SYMMETRIC_6:
		p = g->algo == RAID_LEFT_SYMMETRIC_6 ? data - (unsigned int)(row % (n - 1))
						     : (unsigned int)(row % (n - 1));
		d = (p + 1 + dd) % (n - 1);
		q = n - 1;
		break;
	default:	/* RAID_PARITY_0_6 */
		p = 0;
		d = dd + 1;
		q = n - 1;
		break;
	}
	*pd = p;
	*qd = q;
	return d;
}

unsigned int raid_chunk_disk(const struct raid_geom *g, uint64_t chunk, uint64_t *row)
{
	unsigned int pd, qd;

	*row = chunk / g->data;
	return locate(g, *row, (unsigned int)(chunk % g->data), &pd, &qd);
}

void raid_row_map(const struct raid_geom *g, uint64_t row, struct raid_row *out)
{
	unsigned int k, pd = 0, qd = RAID_NO_DISK, i, leg, slot = 0;

	memset(out->index, RAID_NO_DISK, sizeof(out->index));
	for (k = 0; k < g->data; k++) {
		out->disk[k] = (uint8_t)locate(g, row, k, &pd, &qd);
		out->index[out->disk[k]] = (uint8_t)k;
	}
	out->pd = (uint8_t)pd;
	out->qd = (uint8_t)qd;
	if (g->level != 6) {
		out->nr_slots = (uint8_t)g->data;
		for (k = 0; k < g->data; k++)
			out->slot[k] = (uint8_t)k;
		return;
	}
	if (is_ddf(g->algo)) {
		/* Every leg is a source, by its number; P's and Q's count as zeroes. */
		out->nr_slots = (uint8_t)g->disks;
		for (k = 0; k < g->data; k++)
			out->slot[k] = out->disk[k];
		return;
	}
	/* md numbers Q's sources from the leg after Q, wrapping. */
	out->nr_slots = (uint8_t)g->data;
	for (i = 1; i <= g->disks; i++) {
		leg = (qd + i) % g->disks;
		if (out->index[leg] != RAID_NO_DISK)
			out->slot[out->index[leg]] = (uint8_t)slot++;
	}
}
