/* metric.c: MAP@5 and the summary figures (see metric.h). */
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

void hwi_eval_add(struct hwi_eval *e, const char *truth, char *const *pred, int n)
{
    int truth_nw = strcmp(truth, HWI_NEW_WHALE) == 0;
    int pred_nw = n > 0 && strcmp(pred[0], HWI_NEW_WHALE) == 0;
    e->n++;
    e->map5_sum += hwi_map5_one(truth, pred, n);
    e->top1 += n > 0 && strcmp(pred[0], truth) == 0;
    e->nw_true += truth_nw;
    e->nw_pred += pred_nw;
    e->nw_hit += truth_nw && pred_nw;
}

static double ratio(double a, size_t b)
{
    return b ? a / (double)b : 0.0;
}

double hwi_eval_map5(const struct hwi_eval *e)
{
    return ratio(e->map5_sum, e->n);
}

double hwi_eval_top1(const struct hwi_eval *e)
{
    return ratio((double)e->top1, e->n);
}

double hwi_eval_nw_precision(const struct hwi_eval *e)
{
    return ratio((double)e->nw_hit, e->nw_pred);
}

double hwi_eval_nw_recall(const struct hwi_eval *e)
{
    return ratio((double)e->nw_hit, e->nw_true);
}
