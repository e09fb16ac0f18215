package org.gantry.op.diagnostics.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The {@code diagnostics} operation: reports what an operator needs to know about a gateway before
 * sending it real work — Gantry's version, uptime, the installed operation types and their bundles,
 * free disk, Java and OS — in the execution's {@code statusDetails}. It changes nothing, so it is
 * safe to send to a whole fleet.
 */
@Component(
    service = JobOperation.class,
    property = JobOperation.TYPE + "=" + DiagnosticsOperation.OPERATION_TYPE)
public final class DiagnosticsOperation implements JobOperation {

  /** The operation type job documents name. */
  static final String OPERATION_TYPE = "diagnostics";

  /** Framework property the runtime assembly sets to the Gantry release. */
  static final String VERSION_PROPERTY = "gantry.version";

  static final String KEY_VERSION = "gantryVersion";
  static final String KEY_UPTIME = "uptimeSeconds";
  static final String KEY_OPERATIONS = "operations";
  static final String KEY_FREE_DISK = "freeDiskBytes";
  static final String KEY_JAVA = "javaVersion";
  static final String KEY_OS = "os";

  private static final Logger LOG = LoggerFactory.getLogger(DiagnosticsOperation.class);

  private final String gantryVersion;
  private final LongSupplier uptimeMillis;

  /** Keyed by service.id: one bundle may register several services of the same type. */
  private final ConcurrentMap<Long, List<InstalledOperation>> operations =
      new ConcurrentHashMap<>();

  /**
   * Creates the operation inside OSGi.
   *
   * @param context this bundle's context, for the Gantry version
   */
  @Activate
  public DiagnosticsOperation(BundleContext context) {
    this(gantryVersion(context), () -> ManagementFactory.getRuntimeMXBean().getUptime());
  }

  /**
   * Creates the operation with its sources of facts given, so that tests need no framework.
   *
   * @param gantryVersion the version to report
   * @param uptimeMillis milliseconds since the JVM started
   */
  DiagnosticsOperation(String gantryVersion, LongSupplier uptimeMillis) {
    this.gantryVersion = Objects.requireNonNull(gantryVersion, "gantryVersion");
    this.uptimeMillis = Objects.requireNonNull(uptimeMillis, "uptimeMillis");
  }

  /**
   * The framework's {@code gantry.version} when the runtime sets it, else this bundle's version.
   */
  static String gantryVersion(BundleContext context) {
    String configured = context.getProperty(VERSION_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return configured.strip();
    }
    return context.getBundle().getVersion().toString();
  }

  // Every JobOperation service, this one included, is tracked by its reference only: getting the
  // service objects would activate delayed components for nothing and would make this component
  // depend on its own service.
  @Reference(
      service = JobOperation.class,
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      unbind = "unbindOperation",
      updated = "updatedOperation")
  void bindOperation(ServiceReference<JobOperation> reference) {
    Long id = serviceId(reference);
    Bundle bundle = reference.getBundle();
    if (id == null || bundle == null) {
      return; // already unregistered: the unbind follows, or came first
    }
    List<String> types = types(reference.getProperty(JobOperation.TYPE));
    if (types.isEmpty()) {
      LOG.warn(
          "JobOperation service {} of bundle {} has no {} property; it is not listed",
          id,
          bundle.getSymbolicName(),
          JobOperation.TYPE);
      operations.remove(id);
      return;
    }
    addOperation(id, types, bundle.getSymbolicName(), bundle.getVersion().toString());
  }

  void updatedOperation(ServiceReference<JobOperation> reference) {
    bindOperation(reference);
  }

  void unbindOperation(ServiceReference<JobOperation> reference) {
    Long id = serviceId(reference);
    if (id != null) {
      removeOperation(id);
    }
  }

  /** Records the operation types one service serves, replacing what was known for it. */
  void addOperation(long serviceId, Collection<String> types, String symbolicName, String version) {
    List<InstalledOperation> entries = new ArrayList<>(types.size());
    for (String type : types) {
      entries.add(new InstalledOperation(type, symbolicName, version));
    }
    operations.put(serviceId, List.copyOf(entries));
  }

  void removeOperation(long serviceId) {
    operations.remove(serviceId);
  }

  private static Long serviceId(ServiceReference<?> reference) {
    return reference.getProperty(Constants.SERVICE_ID) instanceof Long id ? id : null;
  }

  /** The TYPE property may be a String, a String[] or a collection (OSGi property types). */
  private static List<String> types(Object property) {
    List<String> types = new ArrayList<>();
    if (property instanceof String s) {
      types.add(s);
    } else if (property instanceof String[] array) {
      types.addAll(List.of(array));
    } else if (property instanceof Collection<?> collection) {
      for (Object o : collection) {
        if (o instanceof String s) {
          types.add(s);
        }
      }
    }
    types.removeIf(String::isBlank);
    return types;
  }

  @Override
  public void validate(JobParameters parameters) throws OperationException {
    if (!parameters.names().isEmpty()) {
      // A typo such as "verbos" must be refused, not ignored: the operator would believe it worked.
      String names =
          parameters.names().stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
      throw OperationException.invalidParameters(
          "The diagnostics operation takes no parameters, but the document gives " + names + ".");
    }
  }

  @Override
  public OperationResult execute(OperationContext context) throws OperationException {
    // The engine may have set these on its thread already: put ours, then give its values back.
    String outerJobId = MDC.get("jobId");
    String outerThingName = MDC.get("thingName");
    MDC.put("jobId", context.jobId());
    MDC.put("thingName", context.thingName());
    try {
      if (context.cancelled()) {
        LOG.info("Diagnostics cancelled before it started");
        return OperationResult.failed(DeviceReason.OPERATION_FAILED, "cancelled", Map.of());
      }
      validate(context.parameters());
      Map<String, String> details = new LinkedHashMap<>();
      details.put(KEY_VERSION, gantryVersion);
      details.put(KEY_UPTIME, Long.toString(uptimeMillis.getAsLong() / 1000));
      details.put(KEY_OPERATIONS, installedOperations());
      details.put(KEY_FREE_DISK, Long.toString(freeDiskBytes(context.workDir())));
      details.put(KEY_JAVA, System.getProperty("java.version", "unknown"));
      details.put(
          KEY_OS,
          System.getProperty("os.name", "unknown")
              + " "
              + System.getProperty("os.arch", "unknown"));
      LOG.info("Diagnostics reported {}", details);
      return OperationResult.succeeded(details);
    } finally {
      restore("jobId", outerJobId);
      restore("thingName", outerThingName);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }

  /** "type=bsn@version, ..." sorted by type, so two reports of one gateway compare line by line. */
  String installedOperations() {
    return operations.values().stream()
        .flatMap(List::stream)
        .sorted(
            Comparator.comparing(InstalledOperation::type)
                .thenComparing(InstalledOperation::symbolicName)
                .thenComparing(InstalledOperation::version))
        .map(InstalledOperation::toString)
        .collect(Collectors.joining(", "));
  }

  private static long freeDiskBytes(Path workDir) throws OperationException {
    try {
      return Files.getFileStore(workDir).getUsableSpace();
    } catch (IOException e) {
      throw new OperationException(
          DeviceReason.OPERATION_FAILED,
          "Could not read the free space of the file store holding " + workDir + ": " + e,
          e);
    }
  }

  private record InstalledOperation(String type, String symbolicName, String version) {
    @Override
    public String toString() {
      return type + "=" + symbolicName + "@" + version;
    }
  }
}
