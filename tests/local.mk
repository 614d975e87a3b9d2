# Tests: cmocka unit tests, integration scripts against SoftHSM.
if HAVE_CMOCKA
include tests/unit/local.mk
endif
