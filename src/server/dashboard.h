/* dashboard.h — the live dashboard page (src/server/dashboard.html), built into the
 * binary (the Makefile turns the page into a C string) so that no file has to be found
 * at run time. */
#ifndef SS_DASHBOARD_H
#define SS_DASHBOARD_H

extern const char ss_dashboard_html[];

#endif
