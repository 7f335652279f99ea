# The ublk-target command.
tools-y += tools/ublk-target/main.o
tools-y += tools/ublk-target/create_opts.o
tools-y += tools/ublk-target/cmd_create.o
tools-y += tools/ublk-target/cmd_list.o
tools-y += tools/ublk-target/cmd_delete.o
tools-y += tools/ublk-target/cmd_features.o
tools-y += tools/ublk-target/rundir.o
tools-y += tools/ublk-target/cmd_bench.o
tools-y += tools/ublk-target/cmd_status.o
tools-y += tools/ublk-target/cmd_message.o
tools-y += tools/ublk-target/control.o
tools-y += tools/ublk-target/daemon.o
tools-y += tools/ublk-target/cmd_recover.o
tools-y += tools/ublk-target/cmd_restart.o
tools-y += tools/ublk-target/holders.o
tools-y += tools/ublk-target/cmd_reload.o
tools-y += tools/ublk-target/service_notify.o
