// SPDX-License-Identifier: GPL-2.0-only
/*
 * Target module for the klp-convert kernel tests, part C: data that the
 * data livepatch reaches through pointers of every storage class.  Each name
 * says which kind of pointer in the livepatch refers to it.  All are static
 * here, so only klp relocations can reach them.
 */
#include <linux/kernel.h>
#include "test_klp_convert_mod.h"

static int data_global_small __used = 0x1111;
static int data_const_global_small __used = 0x2222;
static int data_static_small __used = 0x3333;
static int data_static_const_small __used = 0x4444;
static int data_local_small __used = 0x5555;
static int data_static_local_small __used = 0x6666;
static int data_read_mostly __used = 0x7777;

static int data_global_large[4] __used = { 0x1111, 0x2222, 0x3333, 0x4444 };
static int data_const_global_large[4] __used = { 0x5555, 0x6666, 0x7777, 0x8888 };
static int data_static_large[4] __used = { 0x9999, 0xaaaa, 0xbbbb, 0xcccc };
static int data_static_const_large[4] __used = { 0xdddd, 0xeeee, 0xffff, 0 };
