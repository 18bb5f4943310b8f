# curves.gp: the training curves of a hwi-train --log file as a PNG: the
# loss (left axis) and, when the run had --val, the validation MAP@5 and
# top-1 (right axis) against the epoch.
#
#     gnuplot -e "log='train.log'; out='curves.png'" curves.gp
#
# The log's first line, "# epoch<TAB>step<TAB>loss...", names the columns
# (hwi-train(1), LOG FILE); gnuplot skips it as a comment, so this script
# reads it itself and finds the columns by name.
if (!exists("log")) log = 'train.log'
if (!exists("out")) out = 'curves.png'

header = system(sprintf("sed -n '1s/^# *//p' '%s'", log))
col(name) = sum [i = 1:words(header)] (word(header, i) eq name ? i : 0)
c_loss = col("loss")
c_map5 = col("val_map5")
c_top1 = col("val_top1")
if (c_loss == 0) { print sprintf("curves.gp: %s: no loss column", log); exit status 1 }

set terminal pngcairo size 720,440 font ",10" noenhanced
set output out
set datafile separator "\t"
set title sprintf("hwi-train, %s", log) noenhanced
set xlabel "epoch"
set ylabel "loss per image"
set y2label "validation"
set ytics nomirror
set y2range [0:1]
set y2tics 0.1
set grid xtics ytics
set key below horizontal width 4 samplen 3
set bmargin 5
if (c_map5 > 0) {
    plot log using 1:c_loss with lines lw 2 title "loss", \
         "" using 1:c_map5 axes x1y2 with linespoints pt 7 ps 0.5 lw 2 title "MAP@5", \
         "" using 1:c_top1 axes x1y2 with lines dt 2 lw 1 title "top-1"
} else {
    unset y2label; unset y2tics
    plot log using 1:c_loss with lines lw 2 title "loss"
}
