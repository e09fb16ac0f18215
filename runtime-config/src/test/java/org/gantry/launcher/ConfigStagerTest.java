package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigStagerTest {

  @TempDir Path etc;
  @TempDir Path data;

  private static GatewayOptions options(String broker, String thing, Path dataDir) {
    return new GatewayOptions(
        Optional.ofNullable(broker),
        Optional.ofNullable(thing),
        Optional.ofNullable(dataDir),
        Optional.empty(),
        false,
        Map.of());
  }

  private static Properties read(Path file) throws Exception {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    }
    return p;
  }

  private void shipped() throws Exception {
    Files.writeString(
        etc.resolve("org.gantry.engine.cfg"),
        "# comment\n#thing.name = commented\nrequest.timeout.seconds = 10\n");
    Files.writeString(
        etc.resolve("org.gantry.transport.mqtt.cfg"),
        "broker.url = tcp://127.0.0.1:1883\nkeepalive.seconds = 30\n");
    Files.writeString(etc.resolve("org.ops4j.pax.logging.cfg"), "log4j2.rootLogger.level = INFO\n");
  }

  private Map<String, ConfigStager.Staged> byName(List<ConfigStager.Staged> staged) {
    return staged.stream()
        .collect(java.util.stream.Collectors.toMap(ConfigStager.Staged::name, s -> s));
  }

  @Test
  void optionsOverrideTheFiles() throws Exception {
    shipped();
    Path dataDir = data.resolve("d");
    Map<String, ConfigStager.Staged> s =
        byName(ConfigStager.stage(etc, options("tcp://broker:1884", "press-7", dataDir), data));
    Map<String, String> engine = s.get("org.gantry.engine.cfg").properties();
    Map<String, String> transport = s.get("org.gantry.transport.mqtt.cfg").properties();
    assertEquals("press-7", engine.get("thing.name"));
    assertEquals(dataDir.toString(), engine.get("data.dir"));
    assertEquals("10", engine.get("request.timeout.seconds"));
    assertEquals("tcp://broker:1884", transport.get("broker.url"));
    assertEquals("press-7", transport.get("client.id"));
    assertEquals("30", transport.get("keepalive.seconds"));
    assertEquals(
        Map.of("log4j2.rootLogger.level", "INFO"), s.get("org.ops4j.pax.logging.cfg").properties());
    assertEquals(etc.resolve("org.gantry.engine.cfg"), s.get("org.gantry.engine.cfg").source());
  }

  @Test
  void filesWinOverDefaultsAndDefaultsFillTheGaps() throws Exception {
    Files.writeString(
        etc.resolve("org.gantry.engine.cfg"), "thing.name = from-file\ndata.dir = /srv/engine\n");
    Files.writeString(
        etc.resolve("org.gantry.transport.mqtt.cfg"),
        "broker.url = tcp://h:1\nclient.id = own-id\n");
    Map<String, ConfigStager.Staged> s =
        byName(ConfigStager.stage(etc, options(null, null, null), data));
    assertEquals("/srv/engine", s.get("org.gantry.engine.cfg").properties().get("data.dir"));
    assertEquals("own-id", s.get("org.gantry.transport.mqtt.cfg").properties().get("client.id"));

    Files.writeString(etc.resolve("org.gantry.engine.cfg"), "thing.name = from-file\n");
    Files.writeString(etc.resolve("org.gantry.transport.mqtt.cfg"), "broker.url = tcp://h:1\n");
    s = byName(ConfigStager.stage(etc, options(null, null, null), data));
    assertEquals(data.toString(), s.get("org.gantry.engine.cfg").properties().get("data.dir"));
    assertEquals("from-file", s.get("org.gantry.transport.mqtt.cfg").properties().get("client.id"));
  }

  @Test
  void theDataOptionOverridesTheFilesDataDir() throws Exception {
    Files.writeString(
        etc.resolve("org.gantry.engine.cfg"), "thing.name = t\ndata.dir = /srv/engine\n");
    Files.writeString(etc.resolve("org.gantry.transport.mqtt.cfg"), "broker.url = tcp://h:1\n");
    Map<String, ConfigStager.Staged> s =
        byName(ConfigStager.stage(etc, options(null, null, data), data));
    assertEquals(data.toString(), s.get("org.gantry.engine.cfg").properties().get("data.dir"));
  }

  @Test
  void filesAnOverrideNeedsAreCreated() throws Exception {
    // An empty config folder: everything comes from the command line.
    List<ConfigStager.Staged> staged =
        ConfigStager.stage(etc, options("tcp://h:1", "t", null), data);
    assertEquals(
        List.of("org.gantry.engine.cfg", "org.gantry.transport.mqtt.cfg"),
        staged.stream().map(ConfigStager.Staged::name).toList());
    assertNull(staged.get(0).source());
    Path target = data.resolve("config");
    ConfigStager.write(target, staged);
    assertEquals("t", read(target.resolve("org.gantry.engine.cfg")).getProperty("thing.name"));
    assertEquals(
        "tcp://h:1",
        read(target.resolve("org.gantry.transport.mqtt.cfg")).getProperty("broker.url"));
    assertTrue(
        Files.readString(target.resolve("org.gantry.engine.cfg"))
            .startsWith("# Written by bin/gantry at start from the command line."));
  }

  @Test
  void missingRequiredValuesAreRefused() throws Exception {
    shipped();
    ConfigException noThing =
        assertThrows(
            ConfigException.class, () -> ConfigStager.stage(etc, options(null, null, null), data));
    assertEquals(
        "no thing name: give --thing NAME or set thing.name in "
            + etc.resolve("org.gantry.engine.cfg"),
        noThing.getMessage());
    Files.writeString(etc.resolve("org.gantry.transport.mqtt.cfg"), "broker.url =   \n");
    ConfigException noBroker =
        assertThrows(
            ConfigException.class, () -> ConfigStager.stage(etc, options(null, "t", null), data));
    assertTrue(
        noBroker.getMessage().startsWith("no broker URL: give --broker URL or set broker.url in "),
        noBroker.getMessage());
  }

  @Test
  void aBrokenPropertiesFileIsRefusedByName() throws Exception {
    Files.writeString(etc.resolve("org.gantry.engine.cfg"), "thing.name = \\uZZZZ\n");
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ConfigStager.stage(etc, options("tcp://h:1", "t", null), data));
    assertTrue(
        e.getMessage()
            .startsWith(etc.resolve("org.gantry.engine.cfg") + " is not a properties file"),
        e.getMessage());
  }

  @Test
  void staleFilesAreRemovedAndOthersKept() throws Exception {
    shipped();
    Path target = data.resolve("config");
    Files.createDirectories(target.resolve("subfolder"));
    Files.writeString(target.resolve("org.gantry.old-operation.cfg"), "x = 1\n");
    Files.writeString(target.resolve(".org.gantry.engine.cfg123.tmp"), "half a file");
    ConfigStager.Report report =
        ConfigStager.write(target, ConfigStager.stage(etc, options(null, "t", null), data));
    assertEquals(
        List.of(".org.gantry.engine.cfg123.tmp", "org.gantry.old-operation.cfg"), report.removed());
    assertEquals(
        List.of(
            "org.gantry.engine.cfg", "org.gantry.transport.mqtt.cfg", "org.ops4j.pax.logging.cfg"),
        report.written());
    try (Stream<Path> files = Files.list(target)) {
      assertEquals(
          List.of(
              "org.gantry.engine.cfg",
              "org.gantry.transport.mqtt.cfg",
              "org.ops4j.pax.logging.cfg",
              "subfolder"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void filesAreReplacedByRenameNotRewrittenInPlace() throws Exception {
    Path target = data.resolve("x.cfg");
    ConfigStager.writeAtomically(
        target, "a = 1\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    Object before = Files.readAttributes(target, BasicFileAttributes.class).fileKey();
    ConfigStager.writeAtomically(
        target, "a = 2\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    Object after = Files.readAttributes(target, BasicFileAttributes.class).fileKey();
    // A new inode: a reader that opened the old file saw it whole, and a new reader sees the new
    // one.
    assertNotEquals(before, after);
    assertEquals("2", read(target).getProperty("a"));
    try (Stream<Path> files = Files.list(data)) {
      assertEquals(
          List.of("x.cfg"),
          files.map(p -> p.getFileName().toString()).toList(),
          "no temporary file left");
    }
  }

  @Test
  void valuesSurviveTheRoundTripExactly() throws Exception {
    Map<String, String> tricky =
        Map.of(
            "plain", "tcp://127.0.0.1:1883",
            "spaces", "  leading and trailing  ",
            "key with = and : and space", "v",
            "#hash", "!bang and # inside",
            "path", "C:\\gantry\\data",
            "unicode", "Grüße, 東京",
            "newline", "a\nb\tc",
            "placeholder", "${gantry.data.dir}/log/gantry.log",
            "pattern", "%d{ISO8601} %-5level [%t] %notEmpty{[%X{thingName} %X{jobId}] }- %msg%n",
            "empty", "");
    ConfigStager.Staged staged = new ConfigStager.Staged("t.cfg", null, tricky);
    String text =
        new String(ConfigStager.render(staged), java.nio.charset.StandardCharsets.ISO_8859_1);
    Properties back = new Properties();
    back.load(new StringReader(text));
    assertEquals(tricky.size(), back.size());
    tricky.forEach((k, v) -> assertEquals(v, back.getProperty(k), k));
    assertFalse(text.chars().anyMatch(c -> c > 0x7e), "only ASCII is written");
    assertTrue(
        text.contains("placeholder = ${gantry.data.dir}/log/gantry.log"),
        "placeholders stay readable for FileInstall");
  }

  @Test
  void onlyCfgFilesAreConfiguration() throws Exception {
    shipped();
    Files.writeString(etc.resolve("README.txt"), "x");
    assertEquals(List.of(etc.resolve("README.txt")), ConfigStager.ignoredFiles(etc));
    assertEquals(3, ConfigStager.stage(etc, options(null, "t", null), data).size());
  }
}
