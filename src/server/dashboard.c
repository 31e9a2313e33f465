/* dashboard.c — the dashboard page as a string (see dashboard.h). */
#include "dashboard.h"

const char ss_dashboard_html[] =
#include "dashboard_html.h"
    ;
