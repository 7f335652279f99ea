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

# dm-raid as ubt-r over loop devices on $work/PREFIX0.. (legs in MISSING, a
# ",i,j," list, given as "- -"); dm_raid_down removes it and the loops.
dm_raid_up() {	# TYPE LEN N PREFIX [MISSING]
	local i legs=
	RAID_LOOPS=
	for i in $(seq 0 $(($3 - 1))); do
		if [[ ${5:-} == *",$i,"* ]]; then
			legs="$legs - -"
		else
			RAID_LOOPS="$RAID_LOOPS $(losetup --show -f "$work/$4$i")"
			legs="$legs - ${RAID_LOOPS##* }"
		fi
	done
	DM_DISABLE_UDEV=1 dmsetup create ubt-r --table "0 $2 raid $1 1 128 $3$legs"
}

dm_raid_down() {
	DM_DISABLE_UDEV=1 dmsetup remove ubt-r
	losetup -d $RAID_LOOPS
}

# Wait (up to 2 minutes) until dm-raid's sync action is back to idle.
dm_raid_wait_idle() {	# WHAT
	local t0=$SECONDS
	sleep 1
	while ! dmsetup status ubt-r | grep -q " idle "; do
		[ $((SECONDS - t0)) -lt 120 ] || { echo "dm's $1 did not end: $(dmsetup status ubt-r)"; return 1; }
		sleep 0.5
	done
}

# Send dm-raid a sync action and wait until it is back to idle.
dm_raid_action() {	# ACTION
	dmsetup message ubt-r 0 "$1" || return 1
	dm_raid_wait_idle "$1"
}

# Our status payload and legs $work/ra* against dm-raid's and $work/rb*.
raid_alike() {	# TYPE LEGS OURS DMS
	local i
	[ "$3" = "$4" ] || t_fail "$1: our status '$3', dm's '$4'"
	for i in $(seq 0 $(($2 - 1))); do
		cmp "$work/ra$i" "$work/rb$i" > /dev/null ||
			t_fail "$1: leg $i differs from dm-raid's: $(cmp "$work/ra$i" "$work/rb$i")"
	done
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
	local t n parity data len i dev id legs out dmst
	local types="raid4 raid5_la raid5_ra raid5_ls raid5_rs raid5_n raid6_zr raid6_nr raid6_nc
		raid6_n_6 raid6_la_6 raid6_ra_6 raid6_ls_6 raid6_rs_6"
	# md's placement code is the same in both kernels: every type on the newer
	# one, one of each family on 6.12 (what differs there is dm-raid's table and
	# status, which every type shares).
	[ "$KVER" != 6.12 ] || types="raid4 raid5_ls raid6_zr raid6_ls_6"
	raid_pattern
	for t in $types; do
		case $t in raid6*) n=5 parity=2 ;; *) n=4 parity=1 ;; esac
		data=$((n - parity)) len=$((data * RAID_LEG_SECTORS)) legs=
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
		dm_raid_up "$t" "$len" "$n" rb || t_fail "$t: dmsetup create"
		raid_writes /dev/mapper/ubt-r $((len / 8)) || t_fail "$t: writes through dm"
		dmst=$(dmsetup status ubt-r | cut -d' ' -f4-)
		dm_raid_down
		raid_alike "$t" "$n" "$out" "$dmst"
	done
	rm -f "$work"/ra[0-9] "$work"/rb[0-9]
	left_nothing
}

# Our array (the legs in $2, ",i,j,", failed right after create) over $work/PREFIX*.
raid_ours_up() {	# TYPE MISSING N LEN PREFIX
	local i legs= dev
	for i in $(seq 0 $(($3 - 1))); do legs="$legs - $work/$5$i"; done
	dev=$(echo "0 $4 raid $1 1 128 $3$legs" | $B create --table -) || return 1
	for i in $(seq 0 $(($3 - 1))); do
		if [[ $2 == *",$i,"* ]]; then
			$B message -n "${dev#/dev/ublkb}" 0 fail "$i" || return 1
		fi
	done
	echo "$dev"
}

# Degraded arrays, both ways, over legs with one (raid5) or two (raid6)
# missing: what ours wrote healthy, and what ours wrote degraded, dm-raid
# reads without those legs exactly as ours read it; what dm-raid wrote
# degraded, ours reads with those legs failed exactly as dm-raid read it.
test_raid_degraded_both_ways() {
	local t n data len i dev id miss way
	raid_pattern
	for t in raid5_ls:4:1 raid6_zr:5:1,3 raid6_ls_6:6:0,2 raid6_la_6:6:2,4; do
		n=$(echo "$t" | cut -d: -f2) miss=",$(echo "$t" | cut -d: -f3),"
		t=${t%%:*}
		case $t in raid6*) data=$((n - 2)) ;; *) data=$((n - 1)) ;; esac
		len=$((data * RAID_LEG_SECTORS))
		for way in healthy degraded dm; do
			for i in $(seq 0 $((n - 1))); do
				rm -f "$work/rc$i"
				truncate -s 8M "$work/rc$i"
			done
			if [ $way = dm ]; then
				dm_raid_up "$t" "$len" "$n" rc "$miss" || t_fail "$t: dm with legs$miss missing"
				raid_writes /dev/mapper/ubt-r $((len / 8)) || t_fail "$t: writes through dm"
				dd if=/dev/mapper/ubt-r of="$work/rdm" bs=1M iflag=direct status=none ||
					t_fail "$t: read through dm"
				dm_raid_down
				dev=$(raid_ours_up "$t" "$miss" "$n" "$len" rc) || t_fail "$t: ours, legs$miss failed"
				dd if="$dev" of="$work/rours" bs=1M iflag=direct status=none ||
					t_fail "$t: read ours"
				$B delete -n "${dev#/dev/ublkb}"
			else
				[ $way = healthy ] && i=, || i=$miss
				dev=$(raid_ours_up "$t" "$i" "$n" "$len" rc) || t_fail "$t: ours ($way)"
				raid_writes "$dev" $((len / 8)) || t_fail "$t: writes through ours ($way)"
				dd if="$dev" of="$work/rours" bs=1M iflag=direct status=none ||
					t_fail "$t: read ours ($way)"
				$B delete -n "${dev#/dev/ublkb}"
				dm_raid_up "$t" "$len" "$n" rc "$miss" || t_fail "$t: dm with legs$miss missing"
				dd if=/dev/mapper/ubt-r of="$work/rdm" bs=1M iflag=direct status=none ||
					t_fail "$t: read through dm"
				dm_raid_down
			fi
			cmp "$work/rours" "$work/rdm" > /dev/null ||
				t_fail "$t, $way writes, legs$miss missing: ours and dm-raid read differently: $(cmp "$work/rours" "$work/rdm")"
		done
	done
	rm -f "$work"/rc[0-9] "$work/rours" "$work/rdm"
	left_nothing
}

# Our `check` over legs dm-raid wrote: 0 mismatches, for four types.
test_raid_checks_dm_raids_parity() {
	local t n len i dev id out
	raid_pattern
	for t in raid6_zr:5 raid5_ls:4 raid6_ls_6:5 raid4:4; do
		n=${t#*:} t=${t%%:*}
		case $t in raid6*) len=$(((n - 2) * RAID_LEG_SECTORS)) ;; *) len=$(((n - 1) * RAID_LEG_SECTORS)) ;; esac
		for i in $(seq 0 $((n - 1))); do
			rm -f "$work/re$i"
			truncate -s 8M "$work/re$i"
		done
		dm_raid_up "$t" "$len" "$n" re || t_fail "$t: dm"
		raid_writes /dev/mapper/ubt-r $((len / 8)) || t_fail "$t: writes through dm"
		dm_raid_down
		dev=$(raid_ours_up "$t" , "$n" "$len" re) || t_fail "$t: ours over dm's legs"
		id=${dev#/dev/ublkb}
		$B message -n "$id" 0 check || t_fail "$t: check"
		timeout 60 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "$t: status --wait"
		out=$(our_raid_status "$id")
		$B delete -n "$id"
		[ "$(raid_mismatches <<<"$out")" = 0 ] || t_fail "$t: our check of dm-raid's parity: $out"
	done
	rm -f "$work"/re[0-9]
	left_nothing
}

# By hand only (UBT_E2E_TESTS=test_raid_dm_checks_ours): dm-raid's `check`
# over legs ours wrote, 0 mismatches.  Not in the tier: in both guest
# kernels, removing a dm-raid array after a check now and then hangs the
# guest (dmsetup remove never returns, with nothing of ours running).
test_raid_dm_checks_ours() {
	local t n len i dev out
	raid_pattern
	for t in raid6_zr:5 raid5_ls:4; do
		n=${t#*:} t=${t%%:*}
		case $t in raid6*) len=$(((n - 2) * RAID_LEG_SECTORS)) ;; *) len=$(((n - 1) * RAID_LEG_SECTORS)) ;; esac
		for i in $(seq 0 $((n - 1))); do
			rm -f "$work/rd$i"
			truncate -s 8M "$work/rd$i"
		done
		dev=$(raid_ours_up "$t" , "$n" "$len" rd) || t_fail "$t: create ours"
		raid_writes "$dev" $((len / 8)) || t_fail "$t: writes through ours"
		$B delete -n "${dev#/dev/ublkb}"
		dm_raid_up "$t" "$len" "$n" rd || t_fail "$t: dm over our legs"
		out=$(dm_raid_action check) || t_fail "$t: $out"
		out=$(dmsetup status ubt-r | cut -d' ' -f4-)
		dm_raid_down
		[ "$(raid_mismatches <<<"$out")" = 0 ] || t_fail "$t: dm-raid's check of our parity: $out"
	done
	rm -f "$work"/rd[0-9]
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

# Flip byte off of file f.
raid_flip() {	# FILE OFFSET
	local b
	b=$(od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# The mismatch count of a status payload (ours or dm's).
raid_mismatches() {
	awk '{ print $6 }'
}

# By hand only, as test_raid_dm_checks_ours (dm-raid's check and repair):
# the same corruption behind both arrays' backs (two parity pages and a data
# page of a raid5_ls), then `check` on each: the same mismatch count, as md
# counts it (8 per 4 KiB page); `repair` on ours and on a fresh dm-raid over
# a third copy leave the same legs.
test_raid_check_counts_like_dm_raid() {
	local i dev id legs= len=$((3 * RAID_LEG_SECTORS)) ours dms out
	raid_pattern
	for i in 0 1 2 3; do
		rm -f "$work/rk$i" "$work/rl$i" "$work/rm$i"
		truncate -s 8M "$work/rk$i"
		legs="$legs - $work/rk$i"
	done
	dev=$(echo "0 $len raid raid5_ls 1 128 4$legs" | $B create --table -) || t_fail "create"
	id=${dev#/dev/ublkb}
	raid_writes "$dev" $((len / 8)) || t_fail "writes through ours"
	$B delete -n "$id"
	# raid5_ls on 4 legs: row r's parity is on leg 3 - r % 4.
	raid_flip "$work/rk2" $((65536 + 5000))		# P of row 1
	raid_flip "$work/rk1" $((2 * 65536 + 100))	# P of row 2
	raid_flip "$work/rk0" $((65536 + 20000))	# data of row 1
	for i in 0 1 2 3; do cp "$work/rk$i" "$work/rl$i"; cp "$work/rk$i" "$work/rm$i"; done
	dev=$(echo "0 $len raid raid5_ls 1 128 4$legs" | $B create --table -) || t_fail "create again"
	id=${dev#/dev/ublkb}
	$B message -n "$id" 0 check || t_fail "check"
	timeout 60 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait"
	ours=$(our_raid_status "$id")
	dm_raid_up raid5_ls "$len" 4 rl || t_fail "dmsetup create"
	out=$(dm_raid_action check) || t_fail "$out"
	dms=$(dmsetup status ubt-r | cut -d' ' -f4-)
	dm_raid_down
	[ "$(raid_mismatches <<<"$ours")" = 24 ] && [ "$(raid_mismatches <<<"$dms")" = 24 ] ||
		t_fail "mismatches: ours '$ours', dm's '$dms' (3 pages: 24)"
	$B message -n "$id" 0 repair || t_fail "repair"
	timeout 60 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait repair"
	$B delete -n "$id"
	dm_raid_up raid5_ls "$len" 4 rm || t_fail "dmsetup create for the repair"
	out=$(dm_raid_action repair) || t_fail "$out"
	dm_raid_down
	for i in 0 1 2 3; do
		cmp "$work/rk$i" "$work/rm$i" > /dev/null ||
			t_fail "leg $i after repair differs from dm's: $(cmp "$work/rk$i" "$work/rm$i")"
	done
	rm -f "$work"/rk[0-9] "$work"/rl[0-9] "$work"/rm[0-9]
	left_nothing
}

# A raid6 leg failed and replaced by a new file under fio verify: the new
# leg is rebuilt while I/O goes on, no error, and a check then finds none.
test_raid_replace_under_fio() {
	local dev id out
	rm -f "$work"/rr[0-9]
	truncate -s 64M "$work"/rr0 "$work"/rr1 "$work"/rr2 "$work"/rr3 "$work"/rr4 "$work"/rr5
	dev=$($B create --spec "raid6($work/rr0, $work/rr1, $work/rr2, $work/rr3, $work/rr4, \
		chunk=64K, layout=ddf-zero-restart, nosync, name=r)") || t_fail "create"
	id=${dev#/dev/ublkb}
	( sleep 2; $B message -n "$id" r fail 1; sleep 1; $B message -n "$id" r replace 1 "$work/rr5" ) \
		> "$work/replace.out" 2>&1 &
	out=$(fio_job "$dev" rr --rw=randrw --bsrange=4k-128k --iodepth=16 --size=96M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --time_based --runtime=10 2>&1) ||
		t_fail "fio across the replace: $out; $(cat "$work/replace.out")"
	wait
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait"
	out=$(our_raid_status "$id")
	[ "$out" = "raid6_zr 5 AAAAA 131072/131072 idle 0 0 -" ] || t_fail "after the rebuild: $out"
	$B status -n "$id" | grep -q "^  \[6\] 0 131072 file " ||
		t_fail "leg 1 is not the new file: $($B status -n "$id")"
	$B message -n "$id" r check || t_fail "check"
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait check"
	out=$(our_raid_status "$id")
	[ "$out" = "raid6_zr 5 AAAAA 131072/131072 idle 0 0 -" ] || t_fail "after the check: $out"
	$B delete -n "$id"
	rm -f "$work"/rr[0-9]
	left_nothing
}

# dm-raid's `rebuild <idx>` both ways: an array written through ours, then
# the same legs with one (raid6: two) overwritten by junk behind its back,
# given to ours and to dm-raid each on its own copy with rebuild for those
# legs (and a rate for ours): both recover them, the tables read back as
# given, the status lines agree, and every leg of ours is byte-identical
# to dm-raid's afterwards.
test_raid_rebuild_like_dm_raid() {
	local t n parity data len i dev id legs dmlegs out dmst rb loops params np
	raid_pattern
	for t in raid5_ls:1 raid6_zr:1,3; do
		rb=${t#*:} t=${t%:*}
		case $t in raid6*) n=5 parity=2 ;; *) n=4 parity=1 ;; esac
		data=$((n - parity)) len=$((data * RAID_LEG_SECTORS)) legs=
		for i in $(seq 0 $((n - 1))); do
			rm -f "$work/ra$i" "$work/rb$i"
			truncate -s 8M "$work/ra$i"
			legs="$legs - $work/ra$i"
		done
		dev=$(echo "0 $len raid $t 1 128 $n$legs" | $B create --table -) ||
			t_fail "create --table $t"
		raid_writes "$dev" $((len / 8)) || t_fail "$t: writes through ours"
		$B delete -n "${dev#/dev/ublkb}"
		for i in ${rb//,/ }; do
			dd if=/dev/urandom of="$work/ra$i" bs=1M count=8 conv=notrunc status=none
		done
		loops= dmlegs=
		for i in $(seq 0 $((n - 1))); do
			cp "$work/ra$i" "$work/rb$i"
			loops="$loops $(losetup --show -f "$work/rb$i")"
			dmlegs="$dmlegs - ${loops##* }"
		done
		params="128" np=1
		for i in ${rb//,/ }; do params="$params rebuild $i" np=$((np + 2)); done
		dev=$(echo "0 $len raid $t $((np + 2)) $params max_recovery_rate 8192 $n$legs" |
			$B create --table -) || t_fail "$t: create with rebuild $rb"
		id=${dev#/dev/ublkb}
		out=$($B status -n "$id" --table)
		[ "$out" = "0 $len raid $t $((np + 2)) $params max_recovery_rate 8192 $n$legs" ] ||
			t_fail "$t: our table: $out"
		timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "$t: status --wait"
		out=$(our_raid_status "$id")
		$B delete -n "$id"
		DM_DISABLE_UDEV=1 dmsetup create ubt-r --table "0 $len raid $t $np $params $n$dmlegs" ||
			t_fail "$t: dmsetup create with rebuild $rb"
		dmst=$(dm_raid_wait_idle recovery) || t_fail "$t: $dmst"
		dmst=$(dmsetup status ubt-r | cut -d' ' -f4-)
		DM_DISABLE_UDEV=1 dmsetup remove ubt-r
		losetup -d $loops
		raid_alike "$t" "$n" "$out" "$dmst"
	done
	rm -f "$work"/ra[0-9] "$work"/rb[0-9]
	left_nothing
}

# The bits set in a raid write-intent log file of N regions.
raid_log_bits() {	# FILE REGIONS
	local b n=0
	for b in $(od -A n -t u1 -j 512 -N $((($2 + 7) / 8)) "$1"); do
		while [ "$b" -gt 0 ]; do
			n=$((n + (b & 1)))
			b=$((b >> 1))
		done
	done
	echo $n
}

# A raid5 with a write-intent log, its daemon killed twice under fio verify:
# the log names a few regions, not all, recover resyncs them, fio sees no
# error, a check then finds no parity wrong and a clean stop clears every
# bit.  (Over tmpfs a kill seldom lands between a row's data and parity
# writes: the same run without the log found no parity wrong either.  That
# torn rows lie only in logged regions is shown in process, through
# volatile: test_raid_inproc's crash rounds.)
test_raid_log_kill9_recover_under_fio() {
	trap cleanup EXIT
	local dev id fp i old bits out
	rm -f "$work"/rw[0-9] "$work/rwlog"
	truncate -s 64M "$work"/rw0 "$work"/rw1 "$work"/rw2 "$work"/rw3
	truncate -s 1M "$work/rwlog"
	dev=$($B create --spec "raid5($work/rw0, $work/rw1, $work/rw2, $work/rw3, \
		log=$work/rwlog, region=1M, name=r)") || t_fail "create"
	id=${dev#/dev/ublkb}
	# A new log: every region resynced once.
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait (first resync)"
	fio_verify_bg "$dev" rwf 30
	fp=$!
	sleep 4
	for i in 1 2; do
		old=$(daemon_pid "$id")
		kill -9 "$old"
		wait_orphaned "$id" || t_fail "kill $i: not orphaned: $($B list)"
		bits=$(raid_log_bits "$work/rwlog" 64)
		echo "    kill $i: the log names $bits of 64 regions"
		[ "$bits" -gt 0 ] && [ "$bits" -lt 64 ] || t_fail "kill $i: $bits of 64 regions set"
		out=$($B recover -n "$id" 2>&1) || t_fail "recover $i: $out"
		sleep 4
	done
	runs "$fp" || t_fail "fio ended before the last recovery"
	fio_clean "$fp" rwf
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait"
	$B message -n "$id" r check || t_fail "check"
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait check"
	out=$(our_raid_status "$id")
	[ "$out" = "raid5_ls 4 AAAA 131072/131072 idle 0 0 -" ] || t_fail "after the check: $out"
	$B delete -n "$id" || t_fail "delete"
	[ "$(raid_log_bits "$work/rwlog" 64)" = 0 ] || t_fail "a clean stop left bits set"
	rm -f "$work"/rw[0-9] "$work/rwlog"
	left_nothing
}

# A raid5 with a journal, its daemon killed twice under fio verify: recover
# writes the journal's entries to the legs again, fio sees no error, a
# check finds no parity wrong; made again with a leg failed, it reads the
# same bytes as whole.
test_raid_journal_kill9_recover_under_fio() {
	trap cleanup EXIT
	local dev id fp i out sum
	rm -f "$work"/rj[0-9] "$work/rjj"
	truncate -s 64M "$work"/rj0 "$work"/rj1 "$work"/rj2 "$work"/rj3
	truncate -s 32M "$work/rjj"
	dev=$($B create raid5 --journal "$work/rjj" --file "$work/rj0" --file "$work/rj1" \
		--file "$work/rj2" --file "$work/rj3") || t_fail "create"
	id=${dev#/dev/ublkb}
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait (first resync)"
	fio_verify_bg "$dev" rjf 30
	fp=$!
	sleep 4
	for i in 1 2; do
		kill -9 "$(daemon_pid "$id")"
		wait_orphaned "$id" || t_fail "kill $i: not orphaned: $($B list)"
		out=$($B recover -n "$id" 2>&1) || t_fail "recover $i: $out"
		echo "$out" | sed -n 's/^raid5: the journal .* wrote/    recover '"$i"': wrote/p'
		sleep 4
	done
	runs "$fp" || t_fail "fio ended before the last recovery"
	fio_clean "$fp" rjf
	$B message -n "$id" 0 check || t_fail "check"
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait check"
	out=$(our_raid_status "$id")
	[ "$out" = "raid5_ls 4 AAAA 131072/131072 idle 0 0 -" ] || t_fail "after the check: $out"
	sum=$(md5sum < "$dev")
	$B delete -n "$id" || t_fail "delete"
	dev=$($B create raid5 --journal "$work/rjj" --file "$work/rj0" --file "$work/rj1" \
		--file "$work/rj2" --file "$work/rj3") || t_fail "create again"
	id=${dev#/dev/ublkb}
	out=$(our_raid_status "$id")
	[ "$out" = "raid5_ls 4 AAAA 131072/131072 idle 0 0 -" ] || t_fail "made again: $out"
	$B message -n "$id" 0 fail 2 || t_fail "fail 2"
	[ "$(md5sum < "$dev")" = "$sum" ] || t_fail "with leg 2 failed it reads other bytes"
	$B delete -n "$id" || t_fail "delete again"
	rm -f "$work"/rj[0-9] "$work/rjj"
	left_nothing
}

tests="$tests test_raid_matches_dm_raid test_raid_degraded_both_ways
	test_raid_checks_dm_raids_parity test_raid_fio_through_leg_failure
	test_raid_replace_under_fio test_raid_rebuild_like_dm_raid test_raid_log_kill9_recover_under_fio
	test_raid_journal_kill9_recover_under_fio"
