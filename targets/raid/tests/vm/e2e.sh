# SPDX-License-Identifier: MIT
# End-to-end tests of raid4/5/6, against the kernel's dm-raid (md's raid456
# underneath).  Sourced by tests/vm/e2e.sh (it sets B, work and the t_*
# helpers); adds its tests to $tests.

# 8 MiB legs: 16384 sectors each.
RAID_LEG_SECTORS=16384

# The same writes on any device: a fixed random pattern at fixed places (4 KiB
# blocks): single blocks, a write across a chunk boundary, a whole chunk, a
# whole row (192 KiB: three data chunks of 64 KiB), 1 MiB across rows, and
# the device's last block.
raid_writes() {	# DEV BLOCKS
	local dev=$1 last=$(($2 - 1)) w seek count skip=0
	for w in 0:1 33:1 78:4 112:16 144:48 300:5 500:256 1001:2 $last:1; do
		seek=${w%:*} count=${w#*:}
		dd if="$work/rpat" of="$dev" bs=4k seek="$seek" skip="$skip" count="$count" \
			oflag=direct conv=notrunc status=none || return 1
		skip=$((skip + count))
	done
}

raid_pattern() {
	[ -f "$work/rpat" ] || head -c $((400 * 4096)) /dev/urandom > "$work/rpat"
}

# Our status of node 0 without its "[0] start len TYPE " head.
our_raid_status() {
	$B status -n "$1" | sed -n 's/^\[0[^]]*\] [0-9]* [0-9]* raid[456] //p'
}

# Every dm-raid parity type: ours and dm-raid over zeroed legs, the same
# table and the same writes; the tables and status lines read alike, and
# afterwards each leg of ours is byte-identical to dm's (data where md puts
# it, P and Q as md computes them).
test_raid_matches_dm_raid() {
	local t n parity data len i dev id legs dmlegs loops out dmst
	raid_pattern
	for t in raid4 raid5_la raid5_ra raid5_ls raid5_rs raid5_n raid6_zr raid6_nr raid6_nc \
		raid6_n_6 raid6_la_6 raid6_ra_6 raid6_ls_6 raid6_rs_6; do
		case $t in raid6*) n=5 parity=2 ;; *) n=4 parity=1 ;; esac
		data=$((n - parity)) len=$((data * RAID_LEG_SECTORS)) legs= dmlegs= loops=
		for i in $(seq 0 $((n - 1))); do
			rm -f "$work/ra$i" "$work/rb$i"
			truncate -s 8M "$work/ra$i" "$work/rb$i"
			legs="$legs - $work/ra$i"
		done
		dev=$(echo "0 $len raid $t 1 128 $n$legs" | $B create --table -) ||
			t_fail "create --table $t"
		id=${dev#/dev/ublkb}
		out=$($B status -n "$id" --table)
		[ "$out" = "0 $len raid $t 1 128 $n$legs" ] || t_fail "$t: our table: $out"
		raid_writes "$dev" $((len / 8)) || t_fail "$t: writes through ours"
		out=$(our_raid_status "$id")
		$B delete -n "$id"
		for i in $(seq 0 $((n - 1))); do
			loops="$loops $(losetup --show -f "$work/rb$i")"
		done
		for i in $loops; do dmlegs="$dmlegs - $i"; done
		DM_DISABLE_UDEV=1 dmsetup create ubt-r --table "0 $len raid $t 1 128 $n$dmlegs" ||
			t_fail "$t: dmsetup create"
		raid_writes /dev/mapper/ubt-r $((len / 8)) || t_fail "$t: writes through dm"
		dmst=$(dmsetup status ubt-r | cut -d' ' -f4-)
		DM_DISABLE_UDEV=1 dmsetup remove ubt-r
		losetup -d $loops
		[ "$out" = "$dmst" ] || t_fail "$t: our status '$out', dm's '$dmst'"
		for i in $(seq 0 $((n - 1))); do
			cmp "$work/ra$i" "$work/rb$i" > /dev/null ||
				t_fail "$t: leg $i differs from dm-raid's: $(cmp "$work/ra$i" "$work/rb$i")"
		done
	done
	rm -f "$work"/ra[0-9] "$work"/rb[0-9]
	left_nothing
}

# What we wrote, read back by dm-raid with legs missing: md rebuilds the
# lost legs' data from our P (raid5, one leg gone) and our P and Q (raid6,
# two data legs gone) and reads exactly what we read.
test_raid_dm_rebuilds_our_legs() {
	local t n data len i dev id legs dmlegs loops miss
	raid_pattern
	for t in raid5_ls:4:1 raid6_zr:5:1,3 raid6_ls_6:6:0,2 raid6_la_6:6:2,4; do
		n=$(echo "$t" | cut -d: -f2) miss=",$(echo "$t" | cut -d: -f3),"
		t=${t%%:*}
		case $t in raid6*) data=$((n - 2)) ;; *) data=$((n - 1)) ;; esac
		len=$((data * RAID_LEG_SECTORS)) legs= dmlegs= loops=
		for i in $(seq 0 $((n - 1))); do
			rm -f "$work/rc$i"
			truncate -s 8M "$work/rc$i"
			legs="$legs - $work/rc$i"
		done
		dev=$(echo "0 $len raid $t 1 128 $n$legs" | $B create --table -) ||
			t_fail "create --table $t"
		id=${dev#/dev/ublkb}
		raid_writes "$dev" $((len / 8)) || t_fail "$t: writes through ours"
		dd if="$dev" of="$work/rours" bs=1M iflag=direct status=none || t_fail "$t: read ours"
		$B delete -n "$id"
		for i in $(seq 0 $((n - 1))); do
			if [[ $miss == *",$i,"* ]]; then
				dmlegs="$dmlegs - -"
			else
				loops="$loops $(losetup --show -f "$work/rc$i")"
				dmlegs="$dmlegs - ${loops##* }"
			fi
		done
		DM_DISABLE_UDEV=1 dmsetup create ubt-r --table "0 $len raid $t 1 128 $n$dmlegs" ||
			t_fail "$t: dmsetup create with legs $miss missing"
		dd if=/dev/mapper/ubt-r of="$work/rdm" bs=1M iflag=direct status=none ||
			t_fail "$t: read through dm"
		DM_DISABLE_UDEV=1 dmsetup remove ubt-r
		losetup -d $loops
		cmp "$work/rours" "$work/rdm" > /dev/null ||
			t_fail "$t: dm-raid without legs$miss reads other data: $(cmp "$work/rours" "$work/rdm")"
	done
	rm -f "$work"/rc[0-9] "$work/rours" "$work/rdm"
	left_nothing
}

# fio verify on raid5 and raid6 while legs fail under it: no error reaches
# fio, the status marks the legs D.
test_raid_fio_through_leg_failure() {
	local spec fails dev id out f
	for spec in "raid5:1" "raid6:0 3"; do
		fails=${spec#*:}
		spec=${spec%%:*}
		rm -f "$work"/rf[0-9]
		truncate -s 64M "$work"/rf0 "$work"/rf1 "$work"/rf2 "$work"/rf3 "$work"/rf4
		dev=$($B create --spec "$spec($work/rf0, $work/rf1, $work/rf2, $work/rf3, $work/rf4, \
			chunk=64K, nosync, name=r)") || t_fail "create $spec"
		id=${dev#/dev/ublkb}
		( sleep 2; for f in $fails; do $B message -n "$id" r fail "$f"; sleep 1; done ) \
			> "$work/fail.out" 2>&1 &
		out=$(fio_job "$dev" rv --rw=randrw --bsrange=4k-192k --iodepth=16 --size=96M \
			--verify=crc32c --do_verify=1 --verify_fatal=1 --time_based --runtime=8 2>&1) ||
			t_fail "$spec: fio across the failures: $out; $(cat "$work/fail.out")"
		wait
		out=$(our_raid_status "$id")
		case $spec in
		raid5) [[ $out == "raid5_ls 5 ADAAA "* ]] || t_fail "raid5 status: $out" ;;
		raid6) [[ $out == "raid6_left-symmetric 5 DAADA "* ]] || t_fail "raid6 status: $out" ;;
		esac
		$B delete -n "$id"
	done
	rm -f "$work"/rf[0-9]
	left_nothing
}

tests="$tests test_raid_matches_dm_raid test_raid_dm_rebuilds_our_legs
	test_raid_fio_through_leg_failure"
