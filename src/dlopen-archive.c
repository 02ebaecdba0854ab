/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-archive.h"

POD_DLOPEN_DEFINE(archive, ARCHIVE, "Reading and writing images")
