/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-fake-manager: plays a systemd user manager's StartTransientUnit on a test bus, for
 * tests/integration/rootless-stage1.sh on hosts without systemd (the real user manager is
 * the VM tests').  It holds org.freedesktop.systemd1 on the bus at ADDRESS, prints one line
 * per request and property, answers with a job and emits JobRemoved(..., "done") for it.
 * It moves no process and makes no cgroup.
 *
 *   pod-fake-manager ADDRESS
 *     "ready" once the name is held; then per StartTransientUnit: "unit NAME MODE", one
 *     "prop NAME VALUE" per property (strings, booleans, u64s, the PIDs array, the
 *     DeviceAllow array as "prop DeviceAllow N"), "end".  Runs until killed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>

static unsigned job_id;

static int eq(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}

static int print_property(sd_bus_message *m) {
        const char *name, *contents;
        char type;
        int r;

        r = sd_bus_message_enter_container(m, 'r', "sv");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if (eq(contents, "s")) {
                const char *v;
                r = sd_bus_message_read(m, "s", &v);
                if (r >= 0)
                        printf("prop %s %s\n", name, v);
        } else if (eq(contents, "b")) {
                int v;
                r = sd_bus_message_read(m, "b", &v);
                if (r >= 0)
                        printf("prop %s %s\n", name, v ? "yes" : "no");
        } else if (eq(contents, "t")) {
                uint64_t v;
                r = sd_bus_message_read(m, "t", &v);
                if (r >= 0)
                        printf("prop %s %" PRIu64 "\n", name, v);
        } else if (eq(contents, "au")) {
                const void *p;
                size_t n;
                r = sd_bus_message_read_array(m, 'u', &p, &n);
                if (r >= 0) {
                        printf("prop %s", name);
                        for (size_t i = 0; i < n / sizeof(uint32_t); i++)
                                printf(" %" PRIu32, ((const uint32_t *)p)[i]);
                        printf("\n");
                }
        } else {
                printf("prop %s (%s)\n", name, contents);
                r = sd_bus_message_skip(m, contents);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

static int start_transient_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *mode;
        char job[64];
        int r;

        (void)userdata;
        (void)error;
        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        printf("unit %s %s\n", unit, mode);
        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        while ((r = print_property(m)) > 0)
                ;
        if (r < 0)
                return r;
        printf("end\n");
        fflush(stdout);
        (void)snprintf(job, sizeof(job), "/org/freedesktop/systemd1/job/%u", ++job_id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0)
                return r;
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", job_id,
                                  job, unit, "done");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", start_transient_unit,
                      SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: pod-fake-manager ADDRESS\n");
                return 2;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", manager_vtable,
                                             NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r < 0) {
                fprintf(stderr, "pod-fake-manager: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "pod-fake-manager: %s\n", strerror(-r));
                        return 1;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return 1;
        }
}
