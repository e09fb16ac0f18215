package org.gantry.engine.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.transport.MqttTransport;
import org.gantry.protocol.Limits;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine as a DS component: configured by PID {@code org.gantry.engine}, wired to the MQTT
 * transport and the job document parser, and to every {@link JobOperation} service as a whiteboard
 * (operations come and go while the gateway runs). One {@link ThingEngine} per configured thing;
 * the operations of all things share one bounded worker pool.
 */
@Component(
    configurationPid = "org.gantry.engine",
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    service = {})
@Designate(ocd = EngineConfig.class)
public final class EngineComponent {

  private static final Logger LOG = LoggerFactory.getLogger(EngineComponent.class);

  private final OperationRegistry operations = new OperationRegistry();
  private final KnownOperations known;
  private final ExecutorService workers;
  private final List<ThingEngine> engines = new ArrayList<>();

  /**
   * Checks the configuration and builds the engines; they start in {@link #start()}, once DS has
   * bound the operations already installed, so that the first job does not find them missing.
   */
  @Activate
  public EngineComponent(
      EngineConfig config,
      @Reference(name = "transport") MqttTransport transport,
      @Reference(name = "parser") JobDocumentParser parser) {
    Set<String> things = things(config);
    if (config.data_dir() == null || config.data_dir().isBlank()) {
      throw new IllegalArgumentException("data.dir must name the engine's data folder");
    }
    check("workers", config.workers(), 1, 256);
    check("request.timeout.seconds", config.request_timeout_seconds(), 1, 300);
    check("step.timeout.minutes", config.step_timeout_minutes(), 1, 10080);
    check("progress.interval.millis", config.progress_interval_millis(), 0, 3_600_000);
    check("poll.interval.seconds", config.poll_interval_seconds(), 1, 86_400);
    check("operation.wait.seconds", config.operation_wait_seconds(), 0, 3600);
    ThingEngine.Settings settings =
        new ThingEngine.Settings(
            Duration.ofSeconds(config.request_timeout_seconds()),
            Duration.ofMinutes(config.step_timeout_minutes()),
            stepTimeouts(config.step_timeouts()),
            Duration.ofSeconds(config.poll_interval_seconds()),
            Duration.ofMillis(500),
            Duration.ofMillis(config.progress_interval_millis()),
            Duration.ofSeconds(config.operation_wait_seconds()),
            config.start_next_after_terminal());
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            config.workers(),
            r -> {
              Thread t = new Thread(r, "gantry-operation-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    Path dataDir = Path.of(config.data_dir()).toAbsolutePath();
    this.known = new KnownOperations(dataDir);
    CrashPoints crash = CrashPoints.fromSystemProperty();
    try {
      for (String thing : things) {
        engines.add(
            new ThingEngine(
                thing,
                dataDir,
                transport,
                parser,
                operations,
                workers,
                settings,
                crash,
                known::contains));
      }
    } catch (IOException e) {
      workers.shutdownNow();
      throw new UncheckedIOException("cannot prepare the engine's data folder " + dataDir, e);
    }
  }

  private static Set<String> things(EngineConfig config) {
    return things(config.thing_name(), config.things());
  }

  /**
   * The gateway's own thing first, then the others. Each entry of {@code things} may itself be a
   * comma-separated list, which is what a plain {@code things = a,b} line in a .cfg file gives.
   */
  static Set<String> things(String own, String[] others) {
    Set<String> things = new LinkedHashSet<>();
    List<String> all = new ArrayList<>();
    all.add(own);
    if (others != null) {
      for (String entry : others) {
        if (entry != null && !entry.isBlank()) {
          all.addAll(List.of(entry.split(",")));
        }
      }
    }
    for (String t : all) {
      if (t == null || !Limits.isValidThingName(t.trim())) {
        throw new IllegalArgumentException(
            "thing.name and things must be 1-128 characters of [a-zA-Z0-9:_-], got '" + t + "'");
      }
      if (!things.add(t.trim())) {
        throw new IllegalArgumentException("things names '" + t + "' twice");
      }
    }
    return things;
  }

  static Map<String, Duration> stepTimeouts(String[] entries) {
    Map<String, Duration> m = new HashMap<>();
    if (entries == null) {
      return m;
    }
    for (String e : entries) {
      int eq = e == null ? -1 : e.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "step.timeouts entries are TYPE=MINUTES, got '" + e + "'");
      }
      String type = e.substring(0, eq).trim();
      int minutes;
      try {
        minutes = Integer.parseInt(e.substring(eq + 1).trim());
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException(
            "step.timeouts entry '" + e + "' needs whole minutes after '='", ex);
      }
      check("step.timeouts (" + type + ")", minutes, 1, 10080);
      m.put(type, Duration.ofMinutes(minutes));
    }
    return m;
  }

  private static void check(String property, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          property + " must be " + min + "-" + max + ", got " + value);
    }
  }

  @Activate
  void start() {
    for (ThingEngine e : engines) {
      e.start();
      LOG.info("Engine started for thing {}", e.thingName());
    }
  }

  @Deactivate
  void stop() {
    for (ThingEngine e : engines) {
      e.stop();
      LOG.info("Engine stopped for thing {}", e.thingName());
    }
    workers.shutdownNow();
    try {
      if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("Some operations did not stop within 5 s of the engine stopping");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Reference(
      service = JobOperation.class,
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addOperation(ComponentServiceObjects<JobOperation> objects, Map<String, Object> props) {
    operations.add(objects, props);
    if (props.get(JobOperation.TYPE) instanceof String type) {
      known.add(type);
    }
    LOG.info("Operation '{}' installed", props.get(JobOperation.TYPE));
  }

  void removeOperation(ComponentServiceObjects<JobOperation> objects, Map<String, Object> props) {
    operations.remove(objects, props);
    LOG.info("Operation '{}' removed", props.get(JobOperation.TYPE));
  }
}
