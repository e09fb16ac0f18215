package org.gantry.itests.bench;

import java.time.Instant;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.gantry.itests.support.TestJobsService;

/**
 * The least a device can do for one job against the test service, with no journal and no operation:
 * wait for notify-next, {@code $next/get}, update IN_PROGRESS, update SUCCEEDED, each waiting for
 * its answer. Its job latency is the floor under the gateway's, and its request round trips,
 * compared with the bare MQTT round trip, are the test service's own cost per request.
 */
final class ScriptedDevice {

  /** What one run measured. */
  record Result(long[] describeNanos, long[] inProgressNanos, long[] succeededNanos) {}

  private ScriptedDevice() {}

  static Result run(
      String url,
      TestJobsService jobs,
      String thing,
      int warmup,
      int samples,
      Map<String, Instant> queued)
      throws MqttException, InterruptedException {
    String base = "$aws/things/" + thing + "/jobs/";
    try (BenchClient device = BenchClient.connect(url, thing, null)) {
      device.subscribe(
          base + "notify-next",
          base + "$next/get/accepted",
          base + "$next/get/rejected",
          base + "+/update/accepted",
          base + "+/update/rejected");
      long[] describe = new long[samples];
      long[] inProgress = new long[samples];
      long[] succeeded = new long[samples];
      for (int i = -warmup; i < samples; i++) {
        String job = "floor-" + (i + warmup);
        String quotedJob = "\"jobId\":\"" + job + "\"";
        Instant q = Instant.now();
        jobs.queue(thing, job, EngineBenchmark.DIAGNOSTICS);
        device.await(
            "notify-next of " + job,
            m -> m.topic().endsWith("/notify-next") && m.payload().contains(quotedJob));
        long d =
            request(
                device,
                base + "$next/get",
                "{\"clientToken\":\"d-" + job + "\",\"includeJobDocument\":true}",
                "d-" + job);
        long p =
            request(
                device,
                base + job + "/update",
                "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":1,\"clientToken\":\"p-"
                    + job
                    + "\"}",
                "p-" + job);
        long s =
            request(
                device,
                base + job + "/update",
                "{\"status\":\"SUCCEEDED\",\"expectedVersion\":2,\"clientToken\":\"s-"
                    + job
                    + "\"}",
                "s-" + job);
        if (i >= 0) {
          describe[i] = d;
          inProgress[i] = p;
          succeeded[i] = s;
          queued.put(job, q);
        }
      }
      return new Result(describe, inProgress, succeeded);
    }
  }

  /** Publishes a request and waits for its accepted answer; the round trip in nanoseconds. */
  private static long request(BenchClient device, String topic, String payload, String token)
      throws InterruptedException {
    String quotedToken = "\"clientToken\":\"" + token + "\"";
    long t0 = System.nanoTime();
    device.publish(topic, payload);
    BenchClient.Msg m = device.await("answer to " + token, x -> x.payload().contains(quotedToken));
    if (!m.topic().endsWith("/accepted")) {
      throw new AssertionError("the service refused " + payload + ": " + m.payload());
    }
    return m.receivedNanos() - t0;
  }
}
