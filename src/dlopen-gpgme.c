/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-gpgme.h"

POD_DLOPEN_DEFINE(gpgme, GPGME, "Checking signatures")
