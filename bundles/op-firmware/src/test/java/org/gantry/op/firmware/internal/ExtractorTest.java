package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.gantry.op.firmware.internal.Request.Format;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** FAULTS.md 17-20: crafted archives against the extractor. */
class ExtractorTest {

  @TempDir Path tmp;

  private Path staging() {
    return tmp.resolve("slots").resolve("staging");
  }

  private Extractor extractor(TestConfig c) {
    return new Extractor(c.settings().limits());
  }

  private Extractor extractor() {
    return extractor(TestConfig.in(tmp));
  }

  private static Step ctx(Path dir) {
    return Step.of(new TestContext(Map.of(), dir));
  }

  /** Every path under the test's folder. */
  private Set<Path> tree() throws IOException {
    try (Stream<Path> s = Files.walk(tmp)) {
      return s.collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /**
   * FAULTS 17's "before anything is written": the archive is refused, no file or folder was created
   * through the disk during the call (not even the staging folder), and the tree under the test's
   * folder is the same path for path as before the call.
   */
  private OperationFailure refusedBeforeWriting(Path archive, Format f, TestConfig c)
      throws IOException {
    RecordingDisk disk = new RecordingDisk();
    Extractor x = new Extractor(c.settings().limits(), disk);
    Step step = ctx(tmp);
    Set<Path> before = tree();
    OperationFailure e =
        assertThrows(OperationFailure.class, () -> x.extract(archive, f, staging(), step));
    assertEquals(List.of(), disk.created(), "nothing was created: " + e.getMessage());
    assertEquals(before, tree(), "the tree is unchanged");
    assertFalse(Files.exists(staging().getParent()), "not even the staging folder's parent");
    return e;
  }

  private OperationFailure refusedBeforeWriting(Path archive, Format f) throws IOException {
    return refusedBeforeWriting(archive, f, TestConfig.in(tmp));
  }

  private OperationFailure refused(Path archive, Format f, Extractor x) {
    OperationFailure e =
        assertThrows(OperationFailure.class, () -> x.extract(archive, f, staging(), ctx(tmp)));
    assertFalse(Files.exists(staging()), "the staging folder is removed whole");
    return e;
  }

  static Stream<Arguments> formats() {
    return Stream.of(
        Arguments.of(Format.TAR, "a.tar"),
        Arguments.of(Format.TAR_GZ, "a.tar.gz"),
        Arguments.of(Format.ZIP, "a.zip"));
  }

  private Archives archive(Format f, Path p) throws Exception {
    return f == Format.ZIP ? Archives.zip(p) : Archives.tar(p, f == Format.TAR_GZ);
  }

  @ParameterizedTest
  @MethodSource("formats")
  void extractsFilesFoldersAndTheExecutableBit(Format f, String name) throws Exception {
    Path a = tmp.resolve(name);
    byte[] big = new byte[700_000];
    new Random(1).nextBytes(big);
    try (Archives z = archive(f, a)) {
      z.dir("bin").file("bin/start.sh", "#!/bin/sh\n".getBytes(StandardCharsets.US_ASCII), 0755);
      z.file("lib/deep/image.bin", big).file("VERSION", "2.0.0".getBytes(StandardCharsets.UTF_8));
    }
    Extractor.Extracted x = extractor().extract(a, f, staging(), ctx(tmp));
    assertEquals(4, x.entries());
    assertEquals(10 + big.length + 5, x.bytes());
    assertArrayEquals(big, Files.readAllBytes(staging().resolve("lib/deep/image.bin")));
    assertEquals(
        "rwxr-xr-x",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(staging().resolve("bin/start.sh"))));
    assertEquals(
        "rw-r--r--",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(staging().resolve("VERSION"))));
  }

  /** FAULTS 17, for every format: traversal, absolute, backslash, sibling prefix. */
  static Stream<Arguments> hostileNames() {
    return formats()
        .flatMap(
            a ->
                Stream.of("../x", "/abs", "..\\x", "../staging-evil/x", "ok/../../x")
                    .map(n -> Arguments.of(a.get()[0], a.get()[1], n)));
  }

  @ParameterizedTest
  @MethodSource("hostileNames")
  void entryNamesLeavingTheFolderRefuseTheWholeArchiveBeforeAnythingIsWritten(
      Format f, String file, String entry) throws Exception {
    Path a = tmp.resolve(file);
    byte[] big = new byte[700_000];
    new Random(3).nextBytes(big);
    try (Archives z = archive(f, a)) {
      // Good entries first: a one-pass extractor would have written them before the bad one.
      z.file("first.txt", new byte[] {1, 2, 3}).dir("bin");
      z.file("bin/start.sh", "#!/bin/sh\n".getBytes(StandardCharsets.US_ASCII), 0755);
      z.file("lib/image.bin", big);
      z.file(entry, "evil".getBytes(StandardCharsets.UTF_8));
      z.file("last.txt", new byte[] {4});
    }
    OperationFailure e = refusedBeforeWriting(a, f);
    assertEquals(FirmwareReason.ARCHIVE_PATH_TRAVERSAL, e.code());
    // Commons Compress reads a zip name's backslashes as separators (DOS names): '..\x' is '../x'.
    assertTrue(
        e.getMessage().contains("'" + entry + "'")
            || e.getMessage().contains("'" + entry.replace('\\', '/') + "'"),
        e.getMessage());
    assertFalse(Files.exists(tmp.resolve("slots/staging-evil")));
    assertFalse(Files.exists(tmp.resolve("slots/x")));
    assertFalse(Files.exists(tmp.resolve("x")));
    assertFalse(Files.exists(Path.of("/abs")));
  }

  /** The sibling-prefix check is Path.startsWith, not String.startsWith. */
  @Test
  void siblingPrefixIsOutsideByPathComparison() throws Exception {
    Path root = tmp.resolve("a/b");
    assertFalse(root.resolve("../bc/x").normalize().startsWith(root));
    assertTrue(root.resolve("../bc/x").normalize().toString().startsWith(root.toString()));
  }

  /** FAULTS 18: links are refused; a later entry can never be written through one. */
  @ParameterizedTest
  @ValueSource(strings = {"tar", "tar.gz", "zip"})
  void symlinksAreRefusedAndNothingIsWrittenThroughThem(String kind) throws Exception {
    Format f = kind.equals("zip") ? Format.ZIP : kind.equals("tar") ? Format.TAR : Format.TAR_GZ;
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Path a = tmp.resolve("l." + kind);
    try (Archives z = archive(f, a)) {
      z.symlink("lnk", outside.toString());
      z.file("lnk/evil", "evil".getBytes(StandardCharsets.UTF_8));
    }
    OperationFailure e = refusedBeforeWriting(a, f);
    assertEquals(FirmwareReason.ARCHIVE_LINK, e.code());
    try (Stream<Path> s = Files.list(outside)) {
      assertEquals(0, s.count(), "nothing written outside the staging folder");
    }
  }

  @Test
  void hardlinksAreRefused() throws Exception {
    Path a = tmp.resolve("h.tar");
    try (Archives z = Archives.tar(a, false)) {
      z.file("f", new byte[] {1});
      z.hardlink("h", "/etc/passwd");
    }
    OperationFailure e = refusedBeforeWriting(a, Format.TAR);
    assertEquals(FirmwareReason.ARCHIVE_LINK, e.code());
    assertTrue(e.getMessage().contains("/etc/passwd"), e.getMessage());
  }

  /** FAULTS 19: zeros compressed about 1000:1 stop at the ratio cap. */
  @ParameterizedTest
  @ValueSource(strings = {"tar.gz", "zip"})
  void zipBombStopsAtTheRatioCap(String kind) throws Exception {
    Format f = kind.equals("zip") ? Format.ZIP : Format.TAR_GZ;
    Path a = tmp.resolve("bomb." + kind);
    try (Archives z = archive(f, a)) {
      z.file("zeros", new byte[64 * 1024 * 1024]);
    }
    assertTrue(Files.size(a) < 64 * 1024 * 1024 / 500, "compressed at least 500:1");
    OperationFailure e = refusedBeforeWriting(a, f);
    assertEquals(FirmwareReason.ARCHIVE_RATIO, e.code());
  }

  @Test
  void totalBytesStopAtTheByteCap() throws Exception {
    Path a = tmp.resolve("big.tar");
    byte[] random = new byte[200_000];
    new Random(2).nextBytes(random);
    try (Archives z = Archives.tar(a, false)) {
      z.file("a", random).file("b", random);
    }
    OperationFailure e =
        refusedBeforeWriting(a, Format.TAR, TestConfig.in(tmp).set("extract.max.bytes", 300_000L));
    assertEquals(FirmwareReason.ARCHIVE_TOO_LARGE, e.code());
  }

  @ParameterizedTest
  @MethodSource("formats")
  void tooManyEntriesStopAtTheEntryCap(Format f, String name) throws Exception {
    Path a = tmp.resolve(name);
    try (Archives z = archive(f, a)) {
      for (int i = 0; i < 101; i++) {
        z.file("f" + i, new byte[] {(byte) i});
      }
    }
    OperationFailure e =
        refusedBeforeWriting(a, f, TestConfig.in(tmp).set("extract.max.entries", 100));
    assertEquals(FirmwareReason.ARCHIVE_TOO_MANY_ENTRIES, e.code());
  }

  /** FAULTS 19, a million entries: a zip's central directory is sized up before it is read. */
  @Test
  void aZipWithMoreEntriesThanAllowedIsRefusedBeforeItsDirectoryIsRead() throws Exception {
    Path a = tmp.resolve("many.zip");
    try (Archives z = Archives.zip(a)) {
      for (int i = 0; i < 300; i++) {
        z.file("entry-" + i, new byte[0]);
      }
    }
    OperationFailure e =
        refusedBeforeWriting(a, Format.ZIP, TestConfig.in(tmp).set("extract.max.entries", 10));
    assertEquals(FirmwareReason.ARCHIVE_TOO_MANY_ENTRIES, e.code());
    assertTrue(e.getMessage().contains("declares 300 entries"), e.getMessage());
  }

  @Test
  void anEntryNamedTwiceIsRefused() throws Exception {
    Path a = tmp.resolve("dup.tar");
    try (Archives z = Archives.tar(a, false)) {
      z.file("same", new byte[] {1}).file("same", new byte[] {2});
    }
    assertEquals(FirmwareReason.ARCHIVE_INVALID, refusedBeforeWriting(a, Format.TAR).code());
  }

  /** A file and a folder of one name, or a file below a file: refused before writing. */
  @ParameterizedTest
  @MethodSource("formats")
  void anEntryBelowAFileIsRefusedBeforeWriting(Format f, String name) throws Exception {
    Path a = tmp.resolve(name);
    try (Archives z = archive(f, a)) {
      z.file("ok", new byte[] {1}).file("a", new byte[] {1}).file("a/b", new byte[] {2});
    }
    OperationFailure e = refusedBeforeWriting(a, f);
    assertEquals(FirmwareReason.ARCHIVE_INVALID, e.code());
    assertTrue(e.getMessage().contains("'a/b' lies below 'a'"), e.getMessage());
  }

  /**
   * The writing pass checks every entry again rather than trusting the checking pass: here the
   * archive is replaced between the passes (which nothing does on a gateway: the file is ours and
   * verified) by one whose second entry leaves the folder. It is refused there, the staging folder
   * is removed whole, and only paths inside it were ever created.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tar", "tar.gz"})
  void theWritingPassChecksEachEntryAgain(String kind) throws Exception {
    Format f = kind.equals("tar") ? Format.TAR : Format.TAR_GZ;
    Path a = tmp.resolve("good." + kind);
    Path hostile = tmp.resolve("hostile." + kind);
    try (Archives z = archive(f, a)) {
      z.file("first.txt", new byte[] {1}).file("second.txt", new byte[] {2});
    }
    try (Archives z = archive(f, hostile)) {
      z.file("first.txt", new byte[] {1}).file("../staging-evil/x", new byte[] {2});
    }
    RecordingDisk disk =
        new RecordingDisk()
            .beforeFirstFolder(
                () -> Files.copy(hostile, a, java.nio.file.StandardCopyOption.REPLACE_EXISTING));
    Extractor x = new Extractor(TestConfig.in(tmp).settings().limits(), disk);
    OperationFailure e = refused(a, f, x);
    assertEquals(FirmwareReason.ARCHIVE_PATH_TRAVERSAL, e.code(), e.getMessage());
    assertEquals(List.of(staging(), staging().resolve("first.txt")), disk.created());
    assertFalse(Files.exists(tmp.resolve("slots/staging-evil")));
  }

  /** An entry the checking pass did not see at that position is refused too. */
  @Test
  void anArchiveThatReadsDifferentlyTheSecondTimeIsRefused() throws Exception {
    Path a = tmp.resolve("good.tar");
    Path other = tmp.resolve("other.tar");
    try (Archives z = Archives.tar(a, false)) {
      z.file("first.txt", new byte[] {1}).file("second.txt", new byte[] {2});
    }
    try (Archives z = Archives.tar(other, false)) {
      z.file("first.txt", new byte[] {1}).file("second.txt", new byte[] {2, 3});
    }
    RecordingDisk disk =
        new RecordingDisk()
            .beforeFirstFolder(
                () -> Files.copy(other, a, java.nio.file.StandardCopyOption.REPLACE_EXISTING));
    Extractor x = new Extractor(TestConfig.in(tmp).settings().limits(), disk);
    OperationFailure e = refused(a, Format.TAR, x);
    assertEquals(FirmwareReason.ARCHIVE_INVALID, e.code());
    assertTrue(e.getMessage().contains("read differently the second time"), e.getMessage());
  }

  /** FAULTS 20: no detection: a zip declared as tar.gz is not opened as a zip. */
  @Test
  void theDeclaredFormatIsUsedNeverDetected() throws Exception {
    Path a = tmp.resolve("really-a.zip");
    try (Archives z = Archives.zip(a)) {
      z.file("x", new byte[] {1});
    }
    OperationFailure e = refusedBeforeWriting(a, Format.TAR_GZ);
    assertEquals(FirmwareReason.ARCHIVE_INVALID, e.code());
  }

  /**
   * FAULTS 16 during extraction: the disk fills up in the middle of a file. DISK_FULL with the
   * operating system's words, and the staging folder is removed whole.
   */
  @ParameterizedTest
  @MethodSource("formats")
  void aDiskThatFillsUpFailsWithDiskFullAndRemovesTheStagingFolder(Format f, String name)
      throws Exception {
    Path a = tmp.resolve(name);
    byte[] big = new byte[700_000];
    new Random(2).nextBytes(big);
    try (Archives z = archive(f, a)) {
      z.file("VERSION", "2.0.0".getBytes(StandardCharsets.UTF_8)).file("lib/image.bin", big);
    }
    Extractor x = new Extractor(TestConfig.in(tmp).settings().limits(), new FillingDisk(300_000));
    OperationFailure e = refused(a, f, x);
    assertEquals(FirmwareReason.DISK_FULL, e.code(), e.getMessage());
    assertEquals(
        "Writing 'lib/image.bin' into the staging folder failed: No space left on device.",
        e.getMessage());
  }
}
