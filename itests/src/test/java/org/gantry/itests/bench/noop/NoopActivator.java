package org.gantry.itests.bench.noop;

import java.util.Dictionary;
import java.util.Hashtable;
import org.gantry.api.operation.JobOperation;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Registers {@link NoopOperation} as the {@code noop} operation type. A plain activator rather than
 * Declarative Services: the bundle is packed by the benchmark at run time, without bnd to write the
 * component description; the engine sees an operation service either way.
 */
public final class NoopActivator implements BundleActivator {

  private ServiceRegistration<JobOperation> registration;

  @Override
  public void start(BundleContext context) {
    Dictionary<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, NoopOperation.TYPE);
    registration = context.registerService(JobOperation.class, new NoopOperation(), props);
  }

  @Override
  public void stop(BundleContext context) {
    if (registration != null) {
      registration.unregister();
      registration = null;
    }
  }
}
