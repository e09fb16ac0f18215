package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link AclScenarios} on Debian's Mosquitto ({@code /usr/sbin/mosquitto}, or {@code
 * -Dgantry.mosquitto=/path}), configured as the hub's ACL file expects: {@code
 * require_certificate}, {@code use_identity_as_username}, {@code acl_file}, reloaded on SIGHUP.
 *
 * <p>Runs when {@code -Dgantry.interop.mosquitto=true} (CI sets it): Mosquitto missing is then a
 * failure. Without the property a missing Mosquitto skips these tests with the reason.
 */
class MosquittoAclTest extends AclScenarios {

  private Process mosquitto;
  private Thread reader;
  private final BlockingQueue<String> log = new LinkedBlockingQueue<>();
  private int port;

  static Path binary() {
    String configured = System.getProperty("gantry.mosquitto", "");
    Path path = configured.isBlank() ? Path.of("/usr/sbin/mosquitto") : Path.of(configured);
    if (!Files.isExecutable(path)) {
      String why =
          path
              + " is not an executable Mosquitto: install Debian's package with 'sudo apt-get"
              + " install -y mosquitto' (.ci/run does this), or point -Dgantry.mosquitto at one";
      if (Boolean.getBoolean("gantry.interop.mosquitto")) {
        fail(why + " (-Dgantry.interop.mosquitto=true requires it)");
      }
      Assumptions.abort(why);
    }
    return path;
  }

  @Override
  void startBroker() throws Exception {
    Path bin = binary();
    port = BrokerComponentTest.freePort();
    Path conf = dir.resolve("mosquitto.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "per_listener_settings false",
            "allow_anonymous false",
            "persistence false",
            // as root Mosquitto would switch to the 'mosquitto' user, who cannot read the test's
            // files
            "user " + System.getProperty("user.name"),
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "listener " + port + " 127.0.0.1",
            "cafile " + pki.caPem(),
            "certfile " + pki.brokerCertPem(),
            "keyfile " + pki.brokerKeyPem(),
            "require_certificate true",
            "use_identity_as_username true",
            "tls_version tlsv1.2",
            "acl_file " + aclFile,
            ""));
    mosquitto =
        new ProcessBuilder(bin.toString(), "-c", conf.toString()).redirectErrorStream(true).start();
    reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(mosquitto.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  log.add(line);
                }
              } catch (IOException e) {
                log.add("(log reader stopped: " + e + ")");
              }
            },
            "mosquitto-log");
    reader.setDaemon(true);
    reader.start();
    awaitLog(l -> l.contains("running"), "Mosquitto did not start");
  }

  /** Waits for a log line that matches; fails with what was logged when none comes in time. */
  private void awaitLog(Predicate<String> wanted, String failure) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    StringBuilder seen = new StringBuilder();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? log.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        fail(failure + "; Mosquitto logged:\n" + seen);
      }
      seen.append(line).append('\n');
      if (wanted.test(line)) {
        return;
      }
    }
  }

  @Override
  void stopBroker() throws Exception {
    if (mosquitto != null) {
      mosquitto.destroy();
      if (!mosquitto.waitFor(10, TimeUnit.SECONDS)) {
        mosquitto.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      mosquitto = null;
    }
    if (reader != null) {
      reader.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    }
  }

  @Override
  boolean refusesSubscriptionsInSuback() {
    return false;
  }

  @Override
  String tlsUrl() {
    return "ssl://127.0.0.1:" + port;
  }

  @Override
  void changeAcl(String text) throws Exception {
    writeAcl(text);
    log.clear();
    Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(mosquitto.pid())).start();
    if (!hup.waitFor(WAIT_SECONDS, TimeUnit.SECONDS) || hup.exitValue() != 0) {
      fail("kill -HUP " + mosquitto.pid() + " failed");
    }
    // Mosquitto reloads the ACL right after logging this, in the loop that also handles packets,
    // so whatever the test sends next is checked against the new file.
    awaitLog(l -> l.contains("Reloading config"), "Mosquitto did not reload on SIGHUP");
  }

  /**
   * Not a scenario of the embedded broker (which keeps each principal's client ids apart), but the
   * behaviour to know when Mosquitto is the hub's broker: a client id is one namespace for all
   * principals, so a second connection with it ends the first, whoever presents it.
   */
  @Test
  void onMosquittoAClientIdInUseByAnotherPrincipalEndsThatConnection() throws Exception {
    BlockingQueue<String> gwBInbox = new LinkedBlockingQueue<>();
    MqttClient gwB = tls("gw-b", "gw-b", gwBInbox);
    MqttClient impostor = tls("gw-a", "gw-b", nowhere);
    assertEquals(LOST, next(gwBInbox));
    assertFalse(gwB.isConnected());
    assertTrue(impostor.isConnected());
  }
}
