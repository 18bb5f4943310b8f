/* metric.c: MAP@5 (see metric.h). */
#include <config.h>

#include "metric.h"

#include <string.h>

double hwi_map5_one(const char *truth, char *const *pred, int n)
{
    for (int i = 0; i < n && i < 5; i++)
        if (strcmp(pred[i], truth) == 0)
            return 1.0 / (i + 1); /* the first hit is the only one */
    return 0.0;
}
