package org.gantry.hub.internal.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArtifactStoreTest {
  @TempDir Path dir;

  private static ByteArrayInputStream bytes(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static List<String> leftovers(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
    }
  }

  @Test
  void storesUnderTheKeyWithSizeAndSha256() throws Exception {
    ArtifactStore store = new ArtifactStore(dir.resolve("artifacts"));
    ArtifactStore.Artifact a =
        store.put("firmware-bucket/gw/v2.tar.gz", bytes("image v2"), 1024, null);
    assertEquals("firmware-bucket/gw/v2.tar.gz", a.key());
    assertEquals(8, a.size());
    assertEquals(sha256("image v2".getBytes(StandardCharsets.UTF_8)), a.sha256());
    Path file = dir.resolve("artifacts/firmware-bucket/gw/v2.tar.gz");
    assertEquals("image v2", Files.readString(file));
    assertTrue(Files.exists(file.resolveSibling(".v2.tar.gz.meta")));
    assertEquals(a, store.find("firmware-bucket/gw/v2.tar.gz").orElseThrow());
    assertTrue(store.find("firmware-bucket/gw/v3.tar.gz").isEmpty());
    assertTrue(store.find("firmware-bucket/gw").isEmpty(), "a folder is not an artifact");
    assertEquals(List.of(), leftovers(store.root()));
  }

  @Test
  void replacesAnArtifactAndAReopenedStoreSeesTheNewOne() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    store.put("k", bytes("old"), 1024, null);
    ArtifactStore.Artifact b = store.put("k", bytes("newer"), 1024, null);
    assertEquals(b, new ArtifactStore(dir).find("k").orElseThrow());
  }

  @Test
  void aReaderKeepsTheVersionItOpened() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    store.put("k", bytes("first"), 1024, null);
    try (ArtifactStore.Opened o = store.open("k")) {
      store.put("k", bytes("second, longer"), 1024, null);
      ByteBuffer buf = ByteBuffer.allocate(64);
      o.channel().read(buf, 0);
      assertEquals("first", new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
      assertEquals(5, o.artifact().size());
    }
    try (ArtifactStore.Opened o = store.open("k")) {
      assertEquals(14, o.artifact().size());
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a/./b",
        "a//b",
        "a/",
        "a\\..\\b",
        "a\u0000b",
        "a\nb",
        ".hidden",
        "b/.k.meta",
        "b/.k.0011223344556677.tmp",
        "\ud800"
      })
  void refusesKeysThatBreakTheRules(String key) throws Exception {
    ArtifactStore store = new ArtifactStore(dir.resolve("artifacts"));
    ArtifactException e =
        assertThrows(ArtifactException.class, () -> store.put(key, bytes("x"), 10, null));
    assertEquals(Reason.INVALID_KEY, e.reason());
    assertThrows(ArtifactException.class, () -> store.find(key));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(dir.resolve("artifacts")), s.toList(), "nothing written outside");
    }
  }

  @Test
  void refusesKeysTooLong() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    String segment = "s".repeat(ArtifactKeys.MAX_SEGMENT_BYTES + 1);
    assertEquals(
        Reason.INVALID_KEY,
        assertThrows(ArtifactException.class, () -> store.put(segment, bytes("x"), 10, null))
            .reason());
    String longKey = ("a".repeat(99) + "/").repeat(11) + "z";
    assertTrue(longKey.length() > ArtifactKeys.MAX_KEY_BYTES);
    assertEquals(
        Reason.INVALID_KEY,
        assertThrows(ArtifactException.class, () -> store.find(longKey)).reason());
    // multi-byte characters count as their UTF-8 bytes
    String wide = ("\u00e9".repeat(99) + "/").repeat(6) + "z";
    assertTrue(wide.length() < ArtifactKeys.MAX_KEY_BYTES);
    assertEquals(
        Reason.INVALID_KEY, assertThrows(ArtifactException.class, () -> store.find(wide)).reason());
  }

  @Test
  void refusesAKeyThatNeedsAFolderWhereAnArtifactIs() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    store.put("b/fw", bytes("x"), 10, null);
    assertEquals(
        Reason.KEY_CONFLICT,
        assertThrows(ArtifactException.class, () -> store.put("b/fw/v2", bytes("y"), 10, null))
            .reason());
    store.put("b/dir/v1", bytes("x"), 10, null);
    assertEquals(
        Reason.KEY_CONFLICT,
        assertThrows(ArtifactException.class, () -> store.put("b/dir", bytes("y"), 10, null))
            .reason());
    assertEquals(List.of(), leftovers(dir));
  }

  @Test
  void anUploadOverTheLimitOrWithTheWrongChecksumLeavesNothing() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    store.put("k", bytes("kept"), 100, null);
    assertEquals(
        Reason.TOO_LARGE,
        assertThrows(ArtifactException.class, () -> store.put("k", bytes("0123456789x"), 10, null))
            .reason());
    byte[] wrong = new byte[32];
    assertEquals(
        Reason.CHECKSUM_MISMATCH,
        assertThrows(ArtifactException.class, () -> store.put("k", bytes("other"), 100, wrong))
            .reason());
    assertEquals("kept", Files.readString(dir.resolve("k")));
    assertEquals(4, store.find("k").orElseThrow().size());
    assertEquals(List.of(), leftovers(dir));
    byte[] right = HexFormat.of().parseHex(sha256("match".getBytes(StandardCharsets.UTF_8)));
    assertEquals(5, store.put("k", bytes("match"), 100, right).size());
  }

  @Test
  void anEmptyArtifactIsAnArtifact() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    ArtifactStore.Artifact a = store.put("empty", bytes(""), 10, null);
    assertEquals(0, a.size());
    assertEquals(sha256(new byte[0]), a.sha256());
  }

  @Test
  void staleOrMissingMetadataIsRecomputedFromTheFile() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    store.put("b/k", bytes("version one"), 100, null);
    // A crash between the two renames: the new file is in place, the metadata is the old one's.
    Path temp = dir.resolve("b/other");
    Files.writeString(temp, "version two!");
    Files.move(temp, dir.resolve("b/k"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    ArtifactStore.Artifact a = store.find("b/k").orElseThrow();
    assertEquals(12, a.size());
    assertEquals(sha256("version two!".getBytes(StandardCharsets.UTF_8)), a.sha256());
    // A file an operator copied in, without metadata.
    Files.writeString(dir.resolve("b/copied"), "by hand");
    assertEquals(
        sha256("by hand".getBytes(StandardCharsets.UTF_8)),
        store.find("b/copied").orElseThrow().sha256());
    assertTrue(Files.exists(dir.resolve("b/.copied.meta")));
    // Corrupt metadata is recomputed too.
    Files.writeString(dir.resolve("b/.copied.meta"), "format=1\nsize=nonsense\n");
    assertEquals(7, store.find("b/copied").orElseThrow().size());
  }

  @Test
  void temporaryFilesOfAnUnfinishedUploadAreDeletedOnOpen() throws Exception {
    Files.createDirectories(dir.resolve("b"));
    Files.writeString(dir.resolve("b/.k.0011223344556677.tmp"), "half");
    Files.writeString(dir.resolve("b/k"), "whole");
    new ArtifactStore(dir);
    assertFalse(Files.exists(dir.resolve("b/.k.0011223344556677.tmp")));
    assertTrue(Files.exists(dir.resolve("b/k")));
  }

  @Test
  void aLinkOutOfTheStoreIsNotFollowed() throws Exception {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("secret"), "not for devices");
    Path root = Files.createDirectories(dir.resolve("store"));
    Files.createSymbolicLink(root.resolve("escape"), outside);
    Files.createSymbolicLink(root.resolve("file-link"), outside.resolve("secret"));
    ArtifactStore store = new ArtifactStore(root);
    assertTrue(store.find("escape/secret").isEmpty());
    assertTrue(store.find("file-link").isEmpty());
    assertEquals(
        Reason.INVALID_KEY,
        assertThrows(ArtifactException.class, () -> store.put("escape/new", bytes("x"), 10, null))
            .reason());
    assertFalse(Files.exists(outside.resolve("new")));
  }

  @Test
  void openOfAMissingKeyIsNotFound() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    assertEquals(
        Reason.NOT_FOUND,
        assertThrows(ArtifactException.class, () -> store.open("nothing/here")).reason());
  }

  @Test
  void storedBytesAreTheUploadedBytes() throws Exception {
    ArtifactStore store = new ArtifactStore(dir);
    byte[] data = new byte[300_000];
    new java.util.Random(7).nextBytes(data);
    ArtifactStore.Artifact a = store.put("bin", new ByteArrayInputStream(data), 1 << 20, null);
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("bin")));
    assertEquals(sha256(data), a.sha256());
  }
}
