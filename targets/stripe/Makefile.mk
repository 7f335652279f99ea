# The stripe target: `y` links it into ublk-target, `m` builds ubt-stripe.so.
targets-$(CONFIG_TARGET_STRIPE) += stripe
stripe-objs := stripe.o
