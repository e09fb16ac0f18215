package org.gantry.hub.internal.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.gantry.hub.internal.artifact.ArtifactException.Reason;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class S3UrlsTest {

  @ParameterizedTest
  @CsvSource({
    "https://s3.us-east-1.amazonaws.com/fw-bucket/gw/v2.tar.gz, fw-bucket/gw/v2.tar.gz",
    "https://s3.amazonaws.com/fw-bucket/v2.bin, fw-bucket/v2.bin",
    "https://s3-eu-west-1.amazonaws.com/fw-bucket/v2.bin, fw-bucket/v2.bin",
    "https://fw-bucket.s3.amazonaws.com/gw/v2.bin, fw-bucket/gw/v2.bin",
    "https://fw-bucket.s3.eu-central-1.amazonaws.com/gw/v2.bin, fw-bucket/gw/v2.bin",
    "https://my.s3.data.s3.ap-south-1.amazonaws.com/k, my.s3.data/k",
    "https://fw-bucket.s3-us-west-2.amazonaws.com/k, fw-bucket/k",
    "https://s3.us-east-1.amazonaws.com/fw-bucket/gw%201/%C3%A9t%C3%A9+x, fw-bucket/gw 1/été+x"
  })
  void mapsEachFormToBucketSlashKey(String url, String key) throws Exception {
    assertEquals(key, S3Urls.artifactKey(url));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://s3.us-east-1.amazonaws.com/b1b/k",
        "https://s3.us-east-1.amazonaws.com:443/b1b/k",
        "https://user@s3.us-east-1.amazonaws.com/b1b/k",
        "https://s3.us-east-1.amazonaws.com/b1b/k?versionId=3",
        "https://s3.us-east-1.amazonaws.com/b1b/k#f",
        "https://s3.us-east-1.amazonaws.com/b1b",
        "https://s3.us-east-1.amazonaws.com/b1b/",
        "https://example.com/b1b/k",
        "https://s3.us-east-1.amazonaws.com.evil.net/b1b/k",
        "https://s3.us-east-1.amazonaws.com/Upper/k",
        "https://s3.us-east-1.amazonaws.com/ab/k",
        "https://s3.us-east-1.amazonaws.com/b1b/%zz",
        "https://s3.us-east-1.amazonaws.com/b1b/%C3",
        "not a url",
        "https://s3.us-east-1.amazonaws.com/b1b/k with space"
      })
  void refusesOtherUrls(String url) {
    assertEquals(
        Reason.INVALID_S3_URL,
        assertThrows(ArtifactException.class, () -> S3Urls.artifactKey(url)).reason());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://s3.us-east-1.amazonaws.com/b1b/../../etc/passwd",
        "https://s3.us-east-1.amazonaws.com/b1b/%2e%2e/%2e%2e/etc/passwd",
        "https://s3.us-east-1.amazonaws.com/b1b/a%00b",
        "https://s3.us-east-1.amazonaws.com/b1b/a//b"
      })
  void refusesKeysThatBreakTheKeyRules(String url) {
    assertEquals(
        Reason.INVALID_KEY,
        assertThrows(ArtifactException.class, () -> S3Urls.artifactKey(url)).reason());
  }
}
