/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-curl.h"

POD_DLOPEN_DEFINE(curl, CURL, "Downloading images")
