package org.gantry.itests.support;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.frameworkStartLevel;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.gantry.launcher.FeatureBundle;
import org.gantry.launcher.FeaturesException;
import org.gantry.launcher.FeaturesRepository;
import org.gantry.launcher.MavenCoordinates;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.options.UrlProvisionOption;

/**
 * The Pax Exam configuration of a gateway, derived from {@code features.xml}: the one source of
 * truth for which bundles make a role. Runs on the driver side only (in the {@code @Configuration}
 * method, before the framework starts); it starts the shared {@link TestBroker} and hands its URL
 * to the framework, unless the role brings its own broker into the framework (the hub, see {@link
 * #options(List, List, String, Option...)}).
 *
 * <p>Bundles are provisioned in the order {@link FeaturesRepository#bundles(List)} gives, at the
 * feature's start level or the Gantry launcher's default (80). Gantry's own bundles come from
 * {@code target/bundles} (BUILD-NOTES pitfall 1: {@code mvn verify} installs nothing), everything
 * else as {@code mvn:} from the local repository.
 *
 * <p>Pax Exam's native container provisions pax-logging-api itself (2.1.4, older than the one
 * Gantry ships). {@code exam.properties} turns that off ({@code pax.exam.logging=none}), so that
 * nothing of the features is dropped and the framework logs through exactly the pax-logging the
 * gateway ships with.
 */
public final class GatewayFramework {

  /** System property: the broker's URL, {@code tcp://127.0.0.1:PORT}. */
  public static final String BROKER_URL = "gantry.itest.broker.url";

  /** System property: a folder under {@code target/} for the tests' data folders. */
  public static final String WORK_DIR = "gantry.itest.work";

  /**
   * System property: the locations, comma-separated, of the bundles that the hot-deployed features
   * add to the installed ones, in install order.
   */
  public static final String HOT_DEPLOY_LOCATIONS = "gantry.itest.hotdeploy.locations";

  /** The start level of bundles whose feature gives none, as in the Gantry launcher and Karaf. */
  static final int DEFAULT_START_LEVEL = 80;

  private static final int FRAMEWORK_START_LEVEL = 100;

  private GatewayFramework() {}

  /**
   * The options for a framework with the given features installed.
   *
   * @param installed the features to install, e.g. {@code gantry-gateway}
   * @param hotDeployable features the test installs itself while the framework runs: their extra
   *     bundles are not provisioned, their locations go to {@link #HOT_DEPLOY_LOCATIONS}
   * @return the options
   */
  public static Option[] options(List<String> installed, List<String> hotDeployable) {
    return options(installed, hotDeployable, TestBroker.shared().url());
  }

  /**
   * The options for a framework with the given features installed whose gateway uses the given
   * broker rather than the shared {@link TestBroker}: for a role that brings its own broker into
   * the framework (the hub's embedded one), so that no second broker runs on the driver side.
   *
   * @param installed the features to install, e.g. {@code gantry-hub}, {@code gantry-gateway}
   * @param hotDeployable as in {@link #options(List, List)}
   * @param brokerUrl what {@link #BROKER_URL} names: {@code tcp://127.0.0.1:PORT}
   * @param extra further options the role needs (system packages, framework properties), added
   *     after the derived ones
   * @return the options
   */
  public static Option[] options(
      List<String> installed, List<String> hotDeployable, String brokerUrl, Option... extra) {
    FeaturesRepository features = features();
    List<FeatureBundle> bundles;
    List<FeatureBundle> hot = new ArrayList<>();
    try {
      bundles = features.bundles(installed);
      if (!hotDeployable.isEmpty()) {
        List<String> all = new ArrayList<>(installed);
        all.addAll(hotDeployable);
        Set<MavenCoordinates> present = new LinkedHashSet<>();
        bundles.forEach(b -> present.add(b.coordinates()));
        for (FeatureBundle b : features.bundles(all)) {
          if (!present.contains(b.coordinates())) {
            hot.add(b);
          }
        }
        if (hot.isEmpty()) {
          throw new IllegalStateException(
              "the features " + hotDeployable + " add no bundle to " + installed);
        }
      }
    } catch (FeaturesException e) {
      throw new IllegalStateException("features.xml does not define what the tests need", e);
    }

    List<Option> options = new ArrayList<>();
    for (FeatureBundle b : bundles) {
      UrlProvisionOption o = bundle(url(b.coordinates()));
      o.startLevel(b.startLevel().orElse(DEFAULT_START_LEVEL));
      o.start(b.start());
      options.add(o);
    }
    List<String> hotLocations = new ArrayList<>();
    for (FeatureBundle b : hot) {
      hotLocations.add(url(b.coordinates()));
    }
    Path work = Path.of(property(WORK_DIR)).toAbsolutePath();
    options.add(junitBundles());
    options.add(frameworkStartLevel(FRAMEWORK_START_LEVEL));
    options.add(cleanCaches(true));
    options.add(workingDirectory(work.resolve("pax-exam").toString()));
    options.add(systemProperty(BROKER_URL).value(brokerUrl));
    options.add(systemProperty(WORK_DIR).value(work.toString()));
    options.add(systemProperty(HOT_DEPLOY_LOCATIONS).value(String.join(",", hotLocations)));
    // What the Gantry launcher tells the framework, so the bundles see the same environment.
    options.add(frameworkProperty("gantry.version").value(property("gantry.itest.version")));
    // Read by pax-logging before any configuration exists: also what bundles that start before it
    // (Pax Exam's own, at start level 2) log through.
    options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("INFO"));
    options.add(
        frameworkProperty("org.ops4j.pax.logging.property.file")
            .value(resourceFile("itest-log4j2.xml").toString()));
    options.addAll(List.of(extra));
    return options.toArray(new Option[0]);
  }

  /** The features repository this build produced, as the failsafe configuration names it. */
  private static FeaturesRepository features() {
    Path file = Path.of(property("gantry.itest.features"));
    try {
      return FeaturesRepository.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the features repository " + file, e);
    } catch (FeaturesException e) {
      throw new IllegalStateException("The features repository " + file + " is not usable", e);
    }
  }

  /** A Gantry bundle from target/bundles, anything else as mvn: from the local repository. */
  static String url(MavenCoordinates c) {
    if (!c.groupId().equals("org.gantry")) {
      return c.toString();
    }
    Path jar = Path.of(property("gantry.itest.bundles")).resolve(c.artifactId() + ".jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "features.xml names "
              + c
              + " but "
              + jar
              + " does not exist: is it a dependency of gantry-itests (pom.xml), so that"
              + " pre-integration-test copies it?");
    }
    return jar.toUri().toString();
  }

  private static Path resourceFile(String name) {
    URL url = GatewayFramework.class.getClassLoader().getResource(name);
    if (url == null || !"file".equals(url.getProtocol())) {
      throw new IllegalStateException(name + " is not a file on the test class path: " + url);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("Bad URL of " + name + ": " + url, e);
    }
  }

  private static String property(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "System property "
              + name
              + " is not set: run the integration tests through Maven (failsafe sets it)");
    }
    return value;
  }
}
