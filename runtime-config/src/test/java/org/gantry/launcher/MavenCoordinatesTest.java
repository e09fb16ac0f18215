package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MavenCoordinatesTest {

  @Test
  void threeSegmentsMeanAJar() {
    MavenCoordinates c = MavenCoordinates.parse("mvn:org.apache.felix/org.apache.felix.scr/2.2.18");
    assertEquals("org.apache.felix", c.groupId());
    assertEquals("org.apache.felix.scr", c.artifactId());
    assertEquals("2.2.18", c.version());
    assertEquals("jar", c.type());
    assertEquals(Optional.empty(), c.classifier());
    assertEquals("org.apache.felix.scr-2.2.18.jar", c.fileName());
  }

  @Test
  void typeAndClassifierAreRead() {
    MavenCoordinates c =
        MavenCoordinates.parse("mvn:org.gantry/gantry-features/0.1.0-SNAPSHOT/xml/features");
    assertEquals("xml", c.type());
    assertEquals(Optional.of("features"), c.classifier());
    assertEquals("gantry-features-0.1.0-SNAPSHOT-features.xml", c.fileName());
  }

  @Test
  void anEmptyTypeIsAJar() {
    MavenCoordinates c = MavenCoordinates.parse("mvn:g.h/a/1.0//tests");
    assertEquals("jar", c.type());
    assertEquals("a-1.0-tests.jar", c.fileName());
  }

  @Test
  void resolvesInAMavenLayout() {
    Path root = Path.of("/opt/gantry/system");
    assertEquals(
        Path.of(
            "/opt/gantry/system/org/apache/felix/org.apache.felix.scr/2.2.18/org.apache.felix.scr-2.2.18.jar"),
        MavenCoordinates.parse("mvn:org.apache.felix/org.apache.felix.scr/2.2.18").resolveIn(root));
    assertEquals(
        Path.of("/r/org/gantry/gantry-features/1.0/gantry-features-1.0-features.xml"),
        MavenCoordinates.parse("mvn:org.gantry/gantry-features/1.0/xml/features")
            .resolveIn(Path.of("/r")));
  }

  @ParameterizedTest
  @CsvSource({
    "mvn:g/a/1,                mvn:g/a/1",
    "mvn:g/a/1/jar,            mvn:g/a/1",
    "mvn:g/a/1//c,             mvn:g/a/1/jar/c",
    "mvn:g/a/1/xml,            mvn:g/a/1/xml",
    "mvn:g/a/1/xml/features,   mvn:g/a/1/xml/features",
    "'  mvn:g/a/1  ',          mvn:g/a/1"
  })
  void printsTheCanonicalLocation(String in, String canonical) {
    assertEquals(canonical, MavenCoordinates.parse(in).toString());
  }

  @Test
  void equalityIgnoresTheSpellingOfTheDefaultType() {
    assertEquals(MavenCoordinates.parse("mvn:g/a/1"), MavenCoordinates.parse("mvn:g/a/1/jar"));
    assertEquals(
        MavenCoordinates.parse("mvn:g/a/1").hashCode(),
        MavenCoordinates.parse("mvn:g/a/1/jar").hashCode());
    assertNotEquals(MavenCoordinates.parse("mvn:g/a/1"), MavenCoordinates.parse("mvn:g/a/2"));
    assertNotEquals(MavenCoordinates.parse("mvn:g/a/1"), MavenCoordinates.parse("mvn:g/a/1//c"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "g/a/1                        | does not start with mvn:",
        "file:/tmp/a.jar              | does not start with mvn:",
        "mvn:g/a                      | 2 segments",
        "mvn:g/a/1/jar/c/x            | 6 segments",
        "mvn:/a/1                     | group",
        "mvn:g..h/a/1                 | group 'g..h'",
        "mvn:g/../1                   | artifact",
        "mvn:g/a/..                   | version '..'",
        "mvn:g//1                     | artifact is empty",
        "mvn:g/a/                     | version is empty",
        "mvn:g/a/[1.0,2.0)            | version ranges are not supported",
        "mvn:g/a/LATEST               | not a fixed version",
        "mvn:g/a/RELEASE              | not a fixed version",
        "mvn:https://repo!g/a/1       | repository prefix",
        "mvn:g/a b/1                  | artifact 'a b'",
        "mvn:g/a/1/ja\\r              | type"
      })
  void refusesWhatIsNotAPlainLocation(String location, String reason) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MavenCoordinates.parse(location));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
    assertTrue(e.getMessage().contains("expected mvn:group/artifact/version"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "mvn:"})
  void refusesEmptyLocations(String location) {
    assertThrows(IllegalArgumentException.class, () -> MavenCoordinates.parse(location));
  }
}
