package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The assembled runtime folder, checked against the features: the build fails here if system/ and
 * the bundles that features.xml names ever differ, in either direction.
 */
class AssemblyIT {

  static Path assembly() {
    String dir = System.getProperty("gantry.assembly.dir");
    assertTrue(dir != null, "failsafe must set gantry.assembly.dir");
    return Path.of(dir);
  }

  private static SortedSet<String> filesUnder(Path root) throws Exception {
    try (Stream<Path> files = Files.walk(root)) {
      TreeSet<String> result = new TreeSet<>();
      files.filter(Files::isRegularFile).forEach(p -> result.add(root.relativize(p).toString()));
      return result;
    }
  }

  @Test
  void systemHoldsExactlyTheBundlesOfTheFeatures() throws Exception {
    Path home = assembly();
    Path system = home.resolve("system");
    List<FeatureBundle> bundles =
        FeaturesRepository.read(home.resolve("features.xml")).allBundles();
    TreeSet<String> expected = new TreeSet<>();
    for (FeatureBundle b : bundles) {
      expected.add(system.relativize(b.coordinates().resolveIn(system)).toString());
    }
    SortedSet<String> actual = filesUnder(system);

    TreeSet<String> missing = new TreeSet<>(expected);
    missing.removeAll(actual);
    TreeSet<String> extra = new TreeSet<>(actual);
    extra.removeAll(expected);
    assertTrue(
        missing.isEmpty() && extra.isEmpty(),
        "system/ and features.xml differ; missing from system/: "
            + missing
            + "; not in any feature: "
            + extra);
    assertTrue(expected.size() >= 20, "every feature's bundles, not a subset: " + expected);
  }

  @Test
  void theRuntimeFolderHasItsParts() throws Exception {
    Path home = assembly();
    assertTrue(Files.isExecutable(home.resolve("bin/gantry")), "bin/gantry is executable");
    assertTrue(
        Files.readString(home.resolve("bin/gantry")).startsWith("#!/bin/sh\n"),
        "a POSIX sh script, Unix line ends");
    SortedSet<String> lib = filesUnder(home.resolve("lib"));
    assertEquals(
        3, lib.size(), "the launcher, Felix and Gson, and nothing that shadows them: " + lib);
    List<String> names = List.copyOf(lib);
    assertTrue(names.get(0).matches("gantry-runtime-.*\\.jar"), lib.toString());
    assertTrue(names.get(1).matches("gson-2\\..*\\.jar"), lib.toString());
    assertEquals("org.apache.felix.main-7.0.5.jar", names.get(2));
    assertTrue(Files.isRegularFile(home.resolve("deploy/README.txt")));
    try (Stream<Path> deploy = Files.list(home.resolve("deploy"))) {
      assertEquals(1, deploy.count(), "deploy/ ships empty but for its README");
    }
  }

  private static Properties cfg(Path file) throws Exception {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    }
    return p;
  }

  @Test
  void shippedConfigurationIsAsDocumented() throws Exception {
    Path etc = assembly().resolve("etc");
    Properties engine = cfg(etc.resolve("org.gantry.engine.cfg"));
    assertFalse(
        engine.containsKey("thing.name"), "no thing name is shipped: each gateway needs its own");
    assertEquals("10", engine.getProperty("request.timeout.seconds"));
    assertEquals("60", engine.getProperty("step.timeout.minutes"));
    String engineText = Files.readString(etc.resolve("org.gantry.engine.cfg"));
    assertTrue(
        engineText.contains("#thing.name = ") && engineText.contains("#data.dir = "), engineText);

    Properties transport = cfg(etc.resolve("org.gantry.transport.mqtt.cfg"));
    assertEquals("tcp://127.0.0.1:1883", transport.getProperty("broker.url"));
    assertFalse(transport.containsKey("client.id"));
    for (String key :
        List.of(
            "keepalive.seconds",
            "connect.timeout.seconds",
            "reconnect.min.millis",
            "reconnect.max.millis",
            "max.inflight")) {
      assertTrue(transport.containsKey(key), key);
    }
    assertTrue(
        Files.readString(etc.resolve("org.gantry.transport.mqtt.cfg")).contains("#username = "));

    Properties hub = cfg(etc.resolve("org.gantry.hub.cfg"));
    assertEquals("127.0.0.1", hub.getProperty("api.host"));
    assertEquals(Integer.toString(HubDefaults.API_PORT), hub.getProperty("api.port"));
    assertFalse(hub.containsKey("mqtt.url"), "unset: the embedded broker is the default");
    assertTrue(Files.readString(etc.resolve("org.gantry.hub.cfg")).contains("#mqtt.url = "));
    Properties broker = cfg(etc.resolve("org.gantry.broker.cfg"));
    assertEquals("127.0.0.1", broker.getProperty("host"));
    assertEquals(Integer.toString(HubDefaults.MQTT_PORT), broker.getProperty("port"));
    assertEquals("131072", broker.getProperty("max.message.bytes"));
    assertFalse(broker.containsKey("data.dir"), "in memory: the hub's store is the record");

    Properties logging = cfg(etc.resolve("org.ops4j.pax.logging.cfg"));
    assertEquals("WARN", logging.getProperty("log4j2.logger.moquette.level"));
    assertEquals("INFO", logging.getProperty("log4j2.rootLogger.level"));
    assertTrue(
        logging
            .getProperty("log4j2.appender.console.layout.pattern")
            .contains("%notEmpty{[%X{thingName} %X{jobId}] }"));
    assertEquals(
        "${gantry.data.dir}/log/gantry.log",
        logging.getProperty("log4j2.appender.rolling.fileName"));
    assertEquals("10MB", logging.getProperty("log4j2.appender.rolling.policies.size.size"));
    assertEquals("5", logging.getProperty("log4j2.appender.rolling.strategy.max"));
  }

  @Test
  void theZipHoldsTheSameFolder() throws Exception {
    Path home = assembly();
    Path target = home.getParent();
    List<Path> zips = new ArrayList<>();
    try (Stream<Path> files = Files.list(target)) {
      files
          .filter(p -> p.getFileName().toString().matches("gantry-runtime-.*-bin\\.zip"))
          .forEach(zips::add);
    }
    assertEquals(1, zips.size(), zips.toString());
    TreeSet<String> entries = new TreeSet<>();
    try (ZipFile zip = new ZipFile(zips.get(0).toFile())) {
      zip.stream().filter(e -> !e.isDirectory()).map(ZipEntry::getName).forEach(entries::add);
    }
    TreeSet<String> expected = new TreeSet<>();
    for (String f : filesUnder(home)) {
      // data/ is what a run of the folder in place leaves behind; it is not part of the build
      if (!f.startsWith("data/")) {
        expected.add("gantry/" + f);
      }
    }
    assertEquals(expected, entries);
  }
}
