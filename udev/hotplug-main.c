/* SPDX-License-Identifier: BSD-2-Clause */
/* hotplug-main.c - nkhsm-hotplug's main(): the program is hp_main. */
#include "config.h"

#include "hotplug.h"

int
main(int argc, char **argv)
{
	return hp_main(argc, argv);
}
