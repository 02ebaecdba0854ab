/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-crypto.h"

POD_DLOPEN_DEFINE(crypto, CRYPTO, "Computing image IDs (SHA-512)")
