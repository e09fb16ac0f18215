package org.gantry.hub.internal.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.gantry.hub.internal.artifact.UrlSigner.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UrlSignerTest {
  private static final URI BASE = URI.create("http://10.0.0.5:8443");
  private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");

  @TempDir Path dir;

  /** The parts of a signed URL: decoded key, expires, signature. */
  record Parts(String key, String expires, String signature) {
    static Parts of(String url) {
      URI u = URI.create(url);
      Map<String, String> q = new LinkedHashMap<>();
      for (String p : u.getRawQuery().split("&", -1)) {
        q.put(p.substring(0, p.indexOf('=')), p.substring(p.indexOf('=') + 1));
      }
      String key = ArtifactKeys.decode(u.getRawPath().substring(UrlSigner.PATH_PREFIX.length()));
      return new Parts(key, q.get("expires"), q.get("signature"));
    }
  }

  @Test
  void aSignedUrlHasTheDocumentedShapeAndVerifies() throws Exception {
    TestClock clock = new TestClock(T0);
    UrlSigner signer = UrlSigner.open(dir, BASE, clock);
    String url = signer.sign("fw-bucket/gw 1/image+v2.tar.gz", 600);
    assertTrue(
        url.startsWith(
            "http://10.0.0.5:8443/artifacts/fw-bucket/gw%201/image%2Bv2.tar.gz?expires="
                + (T0.getEpochSecond() + 600)
                + "&signature="),
        url);
    Parts p = Parts.of(url);
    assertEquals("fw-bucket/gw 1/image+v2.tar.gz", p.key());
    assertTrue(p.signature().matches("[A-Za-z0-9_-]{43}"), "base64url, no padding");
    assertEquals(Verdict.VALID, signer.verify("GET", p.key(), p.expires(), p.signature()));
  }

  @Test
  void expiresWithTheClock() throws Exception {
    TestClock clock = new TestClock(T0);
    UrlSigner signer = UrlSigner.open(dir, BASE, clock);
    Parts p = Parts.of(signer.sign("b/k", 60));
    clock.advance(Duration.ofSeconds(59));
    assertEquals(Verdict.VALID, signer.verify("GET", p.key(), p.expires(), p.signature()));
    clock.advance(Duration.ofSeconds(1));
    assertEquals(Verdict.EXPIRED, signer.verify("GET", p.key(), p.expires(), p.signature()));
  }

  @Test
  void eachTamperedPartIsRefused() throws Exception {
    UrlSigner signer = UrlSigner.open(dir, BASE, new TestClock(T0));
    Parts p = Parts.of(signer.sign("b/k", 600));
    assertEquals(Verdict.TAMPERED, signer.verify("GET", "b/K", p.expires(), p.signature()));
    assertEquals(Verdict.TAMPERED, signer.verify("GET", "b/k2", p.expires(), p.signature()));
    long later = Long.parseLong(p.expires()) + 3600;
    assertEquals(
        Verdict.TAMPERED, signer.verify("GET", p.key(), Long.toString(later), p.signature()));
    // an expiry moved either way is tampering, never a new lease
    String earlier = Long.toString(Long.parseLong(p.expires()) - 1);
    assertEquals(Verdict.TAMPERED, signer.verify("GET", p.key(), earlier, p.signature()));
    byte[] sig = Base64.getUrlDecoder().decode(p.signature());
    for (int i = 0; i < sig.length; i += 7) {
      byte[] flipped = sig.clone();
      flipped[i] ^= 1;
      String s = Base64.getUrlEncoder().withoutPadding().encodeToString(flipped);
      assertEquals(Verdict.TAMPERED, signer.verify("GET", p.key(), p.expires(), s));
    }
    assertEquals(
        Verdict.TAMPERED, signer.verify("GET", p.key(), p.expires(), p.signature() + "AA"));
    assertEquals(Verdict.TAMPERED, signer.verify("GET", p.key(), p.expires(), "!!not base64"));
    assertEquals(Verdict.TAMPERED, signer.verify("PUT", p.key(), p.expires(), p.signature()));
    assertEquals(Verdict.UNSIGNED, signer.verify("GET", p.key(), null, p.signature()));
    assertEquals(Verdict.UNSIGNED, signer.verify("GET", p.key(), p.expires(), null));
    assertEquals(Verdict.UNSIGNED, signer.verify("GET", p.key(), "-5", p.signature()));
    assertEquals(Verdict.UNSIGNED, signer.verify("GET", p.key(), "99999999999999", p.signature()));
  }

  @Test
  void theSecretIsRandomPersistedAndPrivate() throws Exception {
    TestClock clock = new TestClock(T0);
    UrlSigner first = UrlSigner.open(dir, BASE, clock);
    Path file = dir.resolve(UrlSigner.SECRET_FILE);
    assertEquals(UrlSigner.SECRET_BYTES, Files.size(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    byte[] secret = Files.readAllBytes(file);
    // a restarted hub honours the URLs it handed out before
    UrlSigner second = UrlSigner.open(dir, BASE, clock);
    Parts p = Parts.of(first.sign("b/k", 600));
    assertEquals(Verdict.VALID, second.verify("GET", p.key(), p.expires(), p.signature()));
    assertArrayEquals(secret, Files.readAllBytes(file));
    // another hub (another data folder) has another secret
    UrlSigner other = UrlSigner.open(dir.resolve("other"), BASE, clock);
    assertNotEquals(p.signature(), Parts.of(other.sign("b/k", 600)).signature());
    assertEquals(Verdict.TAMPERED, other.verify("GET", p.key(), p.expires(), p.signature()));
  }

  @Test
  void aSecretReadableByOthersIsRestricted() throws Exception {
    UrlSigner.open(dir, BASE, new TestClock(T0));
    Path file = dir.resolve(UrlSigner.SECRET_FILE);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    UrlSigner.open(dir, BASE, new TestClock(T0));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void aCorruptSecretIsMovedAsideAndReplaced() throws Exception {
    Path file = dir.resolve(UrlSigner.SECRET_FILE);
    Files.write(file, new byte[] {1, 2, 3});
    UrlSigner.open(dir, BASE, new TestClock(T0));
    assertEquals(UrlSigner.SECRET_BYTES, Files.size(file));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(
          1,
          s.filter(f -> f.getFileName().toString().startsWith(UrlSigner.SECRET_FILE + ".corrupt-"))
              .count());
    }
    assertFalse(Files.exists(dir.resolve(UrlSigner.SECRET_FILE + ".tmp")));
  }

  @Test
  void refusesBadBaseUrlsKeysAndLifetimes() throws Exception {
    TestClock clock = new TestClock(T0);
    for (String bad :
        new String[] {"ftp://h:1", "http://h:1/path", "http://h:1?q", "http:///x", "/relative"}) {
      assertThrows(
          IllegalArgumentException.class, () -> UrlSigner.open(dir, URI.create(bad), clock), bad);
    }
    UrlSigner signer = UrlSigner.open(dir, URI.create("https://hub.example:9000/"), clock);
    assertTrue(signer.sign("k", 60).startsWith("https://hub.example:9000/artifacts/k?"));
    assertThrows(ArtifactException.class, () -> signer.sign("../k", 60));
    assertThrows(IllegalArgumentException.class, () -> signer.sign("k", 0));
  }
}
