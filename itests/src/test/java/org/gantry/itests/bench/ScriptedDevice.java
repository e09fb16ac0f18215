package org.gantry.itests.bench;

import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.gantry.itests.support.TestJobsService;

/**
 * The least a device can do for one job against the test service, with no journal and no operation:
 * wait for notify-next (which carries the execution and its document, as the gateway uses it),
 * update IN_PROGRESS, update SUCCEEDED, each waiting for its answer. Its job latency is the floor
 * under the gateway's, and its request round trips, compared with the bare MQTT round trip, are the
 * test service's own cost per request.
 */
final class ScriptedDevice {

  /** What one run measured. */
  record Result(Figures.Spread inProgress, Figures.Spread succeeded) {}

  private static final Pattern JOB_ID = Pattern.compile("\"jobId\"\\s*:\\s*\"([^\"]+)\"");

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
          base + "notify-next", base + "+/update/accepted", base + "+/update/rejected");
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
          inProgress[i] = p;
          succeeded[i] = s;
          queued.put(job, q);
        }
      }
      return new Result(Figures.Spread.of(inProgress), Figures.Spread.of(succeeded));
    }
  }

  /**
   * Works through a thing's queue as fast as a device that asks allows: {@code $next/get},
   * IN_PROGRESS, SUCCEEDED, again, until it has ended {@code count} jobs; an empty queue (the test
   * has not queued the next job yet) is asked again. The sequential throughput of the service
   * itself, with the same queue the gateway meets.
   *
   * @return how many jobs it ended
   */
  static int drain(String url, String thing, int count) throws MqttException, InterruptedException {
    String base = "$aws/things/" + thing + "/jobs/";
    try (BenchClient device = BenchClient.connect(url, thing, null)) {
      device.subscribe(
          base + "$next/get/accepted",
          base + "$next/get/rejected",
          base + "+/update/accepted",
          base + "+/update/rejected");
      int ended = 0;
      for (int n = 0; ended < count; n++) {
        String token = "n-" + n;
        String quotedToken = "\"clientToken\":\"" + token + "\"";
        device.publish(
            base + "$next/get", "{\"clientToken\":\"" + token + "\",\"includeJobDocument\":true}");
        BenchClient.Msg next =
            device.await("answer to " + token, x -> x.payload().contains(quotedToken));
        if (next.topic().endsWith("/rejected")) {
          Thread.sleep(0, 200_000);
          continue;
        }
        Matcher m = JOB_ID.matcher(next.payload());
        if (!m.find()) {
          throw new AssertionError("no jobId in " + next.payload());
        }
        String job = m.group(1);
        request(
            device,
            base + job + "/update",
            "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":1,\"clientToken\":\"p-" + job + "\"}",
            "p-" + job);
        request(
            device,
            base + job + "/update",
            "{\"status\":\"SUCCEEDED\",\"expectedVersion\":2,\"clientToken\":\"s-" + job + "\"}",
            "s-" + job);
        ended++;
      }
      return ended;
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
