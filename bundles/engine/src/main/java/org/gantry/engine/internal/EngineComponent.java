package org.gantry.engine.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
 * The engine of one thing, as a DS component: configured by PID {@code org.gantry.engine}, wired to
 * the MQTT transport and the job document parser, and to every {@link JobOperation} service as a
 * whiteboard (operations come and go while the gateway runs).
 */
@Component(
    configurationPid = "org.gantry.engine",
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    service = {})
@Designate(ocd = EngineConfig.class)
public final class EngineComponent {

  private static final Logger LOG = LoggerFactory.getLogger(EngineComponent.class);

  private final OperationRegistry operations = new OperationRegistry();
  private final ThingEngine engine;
  private final String thingName;

  /**
   * Checks the configuration and builds the engine; it starts in {@link #start()}, once DS has
   * bound the operations that are already installed, so that the first job does not find them
   * missing.
   */
  @Activate
  public EngineComponent(
      EngineConfig config,
      @Reference(name = "transport") MqttTransport transport,
      @Reference(name = "parser") JobDocumentParser parser) {
    this.thingName = config.thing_name();
    if (thingName == null || !Limits.isValidThingName(thingName)) {
      throw new IllegalArgumentException(
          "thing.name must be 1-128 characters of [a-zA-Z0-9:_-], got '" + thingName + "'");
    }
    if (config.data_dir() == null || config.data_dir().isBlank()) {
      throw new IllegalArgumentException("data.dir must name the engine's data folder");
    }
    if (config.request_timeout_seconds() < 1 || config.request_timeout_seconds() > 300) {
      throw new IllegalArgumentException(
          "request.timeout.seconds must be 1-300, got " + config.request_timeout_seconds());
    }
    if (config.step_timeout_minutes() < 1 || config.step_timeout_minutes() > 10080) {
      throw new IllegalArgumentException(
          "step.timeout.minutes must be 1-10080, got " + config.step_timeout_minutes());
    }
    if (config.poll_interval_seconds() < 1) {
      throw new IllegalArgumentException(
          "poll.interval.seconds must be at least 1, got " + config.poll_interval_seconds());
    }
    this.engine =
        new ThingEngine(
            thingName,
            Path.of(config.data_dir()).toAbsolutePath(),
            transport,
            parser,
            operations,
            new ThingEngine.Settings(
                Duration.ofSeconds(config.request_timeout_seconds()),
                Duration.ofMinutes(config.step_timeout_minutes()),
                Duration.ofSeconds(config.poll_interval_seconds()),
                Duration.ofMillis(500)));
  }

  @Activate
  void start() {
    engine.start();
    LOG.info("Engine started for thing {}", thingName);
  }

  @Deactivate
  void stop() {
    engine.stop();
    LOG.info("Engine stopped for thing {}", thingName);
  }

  @Reference(
      service = JobOperation.class,
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addOperation(ComponentServiceObjects<JobOperation> objects, Map<String, Object> props) {
    operations.add(objects, props);
    LOG.info("Operation '{}' installed", props.get(JobOperation.TYPE));
  }

  void removeOperation(ComponentServiceObjects<JobOperation> objects, Map<String, Object> props) {
    operations.remove(objects, props);
    LOG.info("Operation '{}' removed", props.get(JobOperation.TYPE));
  }
}
