/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-seccomp.h"

POD_DLOPEN_DEFINE(seccomp, SECCOMP, "Seccomp filters")
