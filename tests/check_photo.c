/* check_photo.c: photo keys (lib/photo.c) and SHA-256 (lib/sha256.c).
 * The digests were computed with python3's hashlib.sha256. */
#include <config.h>

#include "check_hwi.h"
#include "photo.h"
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

static void digest(const void *data, size_t n, size_t chunk, char *hex)
{
    struct hwi_sha256 s;
    hwi_sha256_init(&s);
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i += chunk)
        hwi_sha256_update(&s, p + i, n - i < chunk ? n - i : chunk);
    hwi_sha256_hex(&s, hex);
}

START_TEST(sha256_known)
{
    char hex[HWI_SHA256_HEX];
    digest("", 0, 1, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest("abc", 3, 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* the lengths around the padding boundary, whole and byte by byte */
    static const struct {
        size_t n;
        const char *hex;
    } x[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
    };
    char buf[65];
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        digest(buf, x[i].n, x[i].n, hex);
        ck_assert_str_eq(hex, x[i].hex);
        digest(buf, x[i].n, 1, hex);
        ck_assert_str_eq(hex, x[i].hex);
    }
}
END_TEST

START_TEST(sha256_chunks_and_file)
{
    unsigned char data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (unsigned char)((i * 7 + 3) % 256);
    const char *want = "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371";
    static const size_t chunk[] = {1, 7, 63, 64, 65, 1000};
    char hex[HWI_SHA256_HEX];
    for (size_t i = 0; i < sizeof chunk / sizeof chunk[0]; i++) {
        digest(data, sizeof data, chunk[i], hex);
        ck_assert_str_eq(hex, want);
    }
    const char *path = test_tmppath("sha.bin");
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, sizeof data, fp), sizeof data);
    ck_assert_int_eq(fclose(fp), 0);
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_sha256_file(path, hex, err), 0);
    ck_assert_str_eq(hex, want);
    ck_assert_int_eq(hwi_sha256_file(test_tmppath("absent"), hex, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "absent: No such file"));
}
END_TEST

static void key_is(const char *in, const char *want)
{
    char out[256], err[HWI_ERRLEN];
    ck_assert_msg(hwi_photo_key(in, out, err) == 0, "%s: %s", in, err);
    ck_assert_str_eq(out, want);
    /* in place */
    char *dup = strdup(in);
    ck_assert_int_eq(hwi_photo_key(dup, dup, err), 0);
    ck_assert_str_eq(dup, want);
    free(dup);
}

static void key_bad(const char *in, const char *why)
{
    char out[256], err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_photo_key(in, out, err), -1);
    ck_assert_msg(strstr(err, why), "%s: %s", in, err);
}

START_TEST(photo_keys)
{
    key_is("0a1b2c3d.jpg", "0a1b2c3d.jpg");
    key_is("card1/IMG_0001.JPG", "card1/IMG_0001.JPG");
    key_is("./card1//IMG_0001.JPG", "card1/IMG_0001.JPG");
    key_is("card1/./x/../IMG_0001.JPG", "card1/IMG_0001.JPG");
    key_is("a/b/../../c.jpg", "c.jpg");
    key_is("dir/", "dir");
    key_is("..x/y..", "..x/y..");
    key_bad("", "empty");
    key_bad("/tmp/x.jpg", "absolute path");
    key_bad("../x.jpg", "leaves the photo root");
    key_bad("a/../../x.jpg", "leaves the photo root");
    key_bad(".", "names no file");
    key_bad("a/..", "names no file");
    key_bad("a\tb.jpg", "control character");
}
END_TEST

Suite *make_photo_suite(void)
{
    Suite *s = suite_create("photo");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, sha256_known);
    tcase_add_test(tc, sha256_chunks_and_file);
    tcase_add_test(tc, photo_keys);
    suite_add_tcase(s, tc);
    return s;
}
