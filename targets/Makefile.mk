# One object per target; y links it in, m builds $(O)/modules/ubt-NAME.so.
targets-$(CONFIG_TARGET_NULL) += targets/null.o
targets-$(CONFIG_TARGET_FILE) += targets/file.o
targets-$(CONFIG_TARGET_LINEAR) += targets/linear.o
targets-$(CONFIG_TARGET_CONCAT) += targets/concat.o
targets-$(CONFIG_TARGET_STRIPE) += targets/stripe.o
targets-$(CONFIG_TARGET_ZERO) += targets/zero.o
targets-$(CONFIG_TARGET_ERROR) += targets/error.o
targets-$(CONFIG_TARGET_FLAKEY) += targets/flakey.o
targets-$(CONFIG_TARGET_DELAY) += targets/delay.o
