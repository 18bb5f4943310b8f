# train-data.sh: a tiny synthetic pixel stream for the hwi-train and
# hwi-embed tests; source it after init.sh.
#
# make_pixels_ S SEED writes pix.txt (text for hwi-vec --pack) and
# train.csv: 4 whales x 3 images of S x S pixels, each whale a bright
# vertical band at its own place plus noise, one new_whale image and one
# image without a label (nolabel.jpg).
make_pixels_() {
    awk -v S="$1" -v seed="$2" 'BEGIN {
        srand(seed)
        print "Image,Id" > "train.csv"
        for (w = 0; w < 6; w++) {
            for (k = 0; k < (w < 4 ? 3 : 1); k++) {
                if (w < 4) { name = sprintf("w%d_%d.jpg", w, k); id = sprintf("w_%07d", w + 1) }
                else if (w == 4) { name = "nw.jpg"; id = "new_whale" }
                else { name = "nolabel.jpg"; id = "" }
                if (id != "") print name "," id > "train.csv"
                line = name
                for (y = 0; y < S; y++)
                    for (x = 0; x < S; x++) {
                        v = (int(x * 4 / S) == w ? 0.8 : 0.2) + (rand() - 0.5) * 0.1
                        line = line sprintf("\t%.4f", v)
                    }
                print line
            }
        }
    }' > pix.txt
}

# cfg_size_ CFG: the width of the network's input (square, grayscale).
cfg_size_() {
    sed -n 's/^width *= *\([0-9]*\).*/\1/p' "$1" | head -n 1
}
