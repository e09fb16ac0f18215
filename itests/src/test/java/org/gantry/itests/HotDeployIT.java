package org.gantry.itests;

import static org.gantry.itests.support.TestJobsService.patience;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.inject.Inject;
import org.gantry.api.operation.JobOperation;
import org.gantry.itests.support.GatewayConfig;
import org.gantry.itests.support.GatewayFramework;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Execution;
import org.gantry.protocol.ExecutionStatus;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Hot deployment: the gateway runs without the diagnostics operation; its bundle is installed while
 * the gateway runs, then uninstalled, and each job is judged by what is installed when it arrives.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotDeployIT {

  private static final String THING = "HotDeployIT-thing";
  private static final String DIAGNOSTICS = "{\"operation\":\"diagnostics\"}";
  private static final String FILTER = "(" + JobOperation.TYPE + "=diagnostics)";

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  private TestJobsService jobs;

  @Configuration
  public Option[] configuration() {
    return GatewayFramework.options(List.of("gantry-gateway"), List.of("gantry-op-diagnostics"));
  }

  @Before
  public void startGateway() throws Exception {
    jobs = TestJobsService.start(GatewayConfig.brokerUrl());
    GatewayConfig.configure(configAdmin, THING);
    jobs.awaitRequest(
        "describe $next from " + THING,
        r -> THING.equals(r.thingName()) && r.isDescribe("$next"),
        patience());
  }

  @After
  public void stopJobsService() {
    if (jobs != null) {
      jobs.close();
    }
  }

  @Test
  public void operationBundleServesJobsOnlyWhileInstalled() throws Exception {
    assertEquals(0, diagnosticsServices());

    jobs.queue(THING, "before-install", DIAGNOSTICS);
    assertRejectedAsNotInstalled("before-install");

    List<Bundle> installed = new ArrayList<>();
    for (String location : hotDeployLocations()) {
      installed.add(context.installBundle(location));
    }
    for (Bundle b : installed) {
      b.start();
    }
    awaitDiagnosticsServices(1);

    jobs.queue(THING, "while-installed", DIAGNOSTICS);
    Execution ran =
        jobs.awaitStatus(THING, "while-installed", ExecutionStatus.SUCCEEDED, patience());
    assertTrue(
        ran.statusDetails().toString(),
        ran.statusDetails().getOrDefault("operations", "").contains("diagnostics="));

    for (Bundle b : installed) {
      b.uninstall();
    }
    awaitDiagnosticsServices(0);

    jobs.queue(THING, "after-uninstall", DIAGNOSTICS);
    assertRejectedAsNotInstalled("after-uninstall");
  }

  private void assertRejectedAsNotInstalled(String jobId) throws InterruptedException {
    Execution done = jobs.awaitStatus(THING, jobId, ExecutionStatus.REJECTED, patience());
    Map<String, String> details = done.statusDetails();
    assertEquals(details.toString(), "OPERATION_NOT_INSTALLED", details.get("reasonCode"));
    assertFalse(details.toString(), done.history().contains(ExecutionStatus.IN_PROGRESS));
  }

  private static List<String> hotDeployLocations() {
    String value = System.getProperty(GatewayFramework.HOT_DEPLOY_LOCATIONS, "");
    List<String> locations = new ArrayList<>();
    for (String l : value.split(",")) {
      if (!l.isBlank()) {
        locations.add(l.trim());
      }
    }
    assertFalse("no bundles to hot-deploy were handed to the framework", locations.isEmpty());
    return locations;
  }

  private int diagnosticsServices() throws InvalidSyntaxException {
    return context.getServiceReferences(JobOperation.class, FILTER).size();
  }

  /** Service (un)registration reaches the engine's dynamic reference in the same thread. */
  private void awaitDiagnosticsServices(int count) throws Exception {
    Duration timeout = patience();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (diagnosticsServices() != count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "The diagnostics operation service count did not become "
                + count
                + " within "
                + timeout.toSeconds()
                + " s; it is "
                + diagnosticsServices());
      }
      Thread.sleep(20);
    }
  }
}
