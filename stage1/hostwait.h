/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The host-side wait loop of a running pod, shared by pod-stage1 (when it supervises in
 * place) and pod-stage1-supervise (what it normally execs into).  Library-free: it is linked
 * into the static supervisor.
 * Owns: forwarding signals to the pod init, waiting for its exit, and the sd_notify(3)
 * protocol towards the service manager (READY=1 and STATUS= only; stage1 stays MAINPID).
 * Does not own: deciding which apps get a notify socket (notify.c). */

#include <stddef.h>
#include <sys/types.h>

#define STAGE1_NOTIFY_MAX_APPS 256

/* Sends text as one datagram to $NOTIFY_SOCKET ("/path" or "@abstract"); 0 when the
 * variable is unset, -errno on failure. */
int stage1_notify_send(const char *text);

/* Forwards every signal read from sfd but SIGCHLD to init and returns init's exit status
 * (128+N when killed by signal N), or 254 on failure.
 * ready_fd (-1: none): the pod init writes one byte to it once every app's main process has
 * been started.  socks[n_socks]: one notify socket per app.  With sockets, READY=1 is sent
 * once each socket has received READY=1; without, once ready_fd says the apps started.
 * STATUS= lines received on a socket are forwarded as they come. */
int stage1_host_wait(pid_t init, int sfd, int ready_fd, const int *socks, size_t n_socks);
