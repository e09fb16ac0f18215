package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.TransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The identity swap (FAULTS 26) and a duplicate client id (FAULTS 25), against real brokers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdentityAndDuplicateTest {

  @TempDir Path dir;

  private AutoCloseable broker;
  private final List<PahoMqttTransport> transports = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (PahoMqttTransport t : transports) {
      t.deactivate();
    }
    if (broker != null) {
      broker.close();
    }
  }

  private PahoMqttTransport transport(String url, String clientId, Object... extra) {
    Object[] base = {
      "broker.url", url,
      "client.id", clientId,
      "reconnect.min.millis", 100,
      "reconnect.max.millis", 300,
      "connect.timeout.seconds", 3
    };
    Object[] all = new Object[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    PahoMqttTransport t = new PahoMqttTransport(TestConfigs.config(all));
    transports.add(t);
    return t;
  }

  private static void echo(PahoMqttTransport t, Inbox inbox, String text) throws Exception {
    t.publish("swap/echo", text.getBytes(UTF_8), 1).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(text, inbox.next().payload());
  }

  @Test
  void aNewIdentityIsKeptIfItConnectsAndTheOldOneRestoredIfNot() throws Exception {
    TestPki.Issued ca = TestPki.ca("swap CA");
    TestPki.Issued stranger = TestPki.ca("stranger CA");
    Path caFile = TestPki.writeCerts(dir.resolve("ca.pem"), ca.certificate());
    TestBroker b = TestBroker.startTls(dir.resolve("broker"), TestPki.server(ca), ca.certificate());
    broker = b;
    TestPki.Issued old = TestPki.client(ca, "gw-old", TestPki.rsa());
    TestPki.Issued fresh = TestPki.client(ca, "gw-new", TestPki.ec());
    TestPki.Issued bad = TestPki.client(stranger, "gw-bad", TestPki.rsa());
    Path oldCert = TestPki.writeCerts(dir.resolve("old.crt"), old.certificate());
    Path oldKey = TestPki.writeTraditional(dir.resolve("old.key"), old.keys().getPrivate());
    Path newCert = TestPki.writeCerts(dir.resolve("new.crt"), fresh.certificate());
    Path newKey = TestPki.writeTraditional(dir.resolve("new.key"), fresh.keys().getPrivate());
    Path badCert = TestPki.writeCerts(dir.resolve("bad.crt"), bad.certificate());
    Path badKey = TestPki.writePkcs8(dir.resolve("bad.key"), bad.keys().getPrivate());

    PahoMqttTransport t =
        transport(
            b.url(),
            "rotating",
            "tls.ca.file",
            caFile.toString(),
            "tls.cert.file",
            oldCert.toString(),
            "tls.key.file",
            oldKey.toString());
    Await.until(() -> t.state() == ConnectionState.CONNECTED, "connects with the old identity");
    Inbox inbox = new Inbox();
    t.subscribe("swap/echo", 1, inbox).toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertTrue(
        t.trySwapIdentity(newCert, newKey, Duration.ofSeconds(10))
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS),
        "a good new identity is kept");
    assertEquals(newCert.toString(), t.identitySource());
    assertEquals(ConnectionState.CONNECTED, t.state());
    echo(t, inbox, "after the swap; the subscription was made again");

    long start = System.nanoTime();
    assertFalse(
        t.trySwapIdentity(badCert, badKey, Duration.ofSeconds(2))
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS),
        "an identity the broker refuses is given up");
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "within about the timeout");
    assertEquals(newCert.toString(), t.identitySource(), "the previous identity is back");
    Await.until(() -> t.state() == ConnectionState.CONNECTED, "reconnects with it");
    echo(t, inbox, "after the fallback");

    ExecutionException mismatch =
        assertThrows(
            ExecutionException.class,
            () ->
                t.trySwapIdentity(newCert, oldKey, Duration.ofSeconds(2))
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS));
    assertInstanceOf(TransportException.class, mismatch.getCause());
    assertTrue(
        mismatch.getCause().getMessage().contains("is not the private key of the certificate"),
        mismatch.getCause().getMessage());
    assertEquals(ConnectionState.CONNECTED, t.state(), "a refused swap leaves the connection be");
  }

  @Test
  void swappingWithoutTlsIsRefused() throws Exception {
    TestBroker b = TestBroker.start(dir.resolve("plain"));
    broker = b;
    PahoMqttTransport t = transport(b.url(), "plain");
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                t.trySwapIdentity(dir.resolve("c"), dir.resolve("k"), Duration.ofSeconds(1))
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("is not TLS"), e.getCause().getMessage());
  }

  /** FAULTS.md 25: two gateways with one client id; both brokers. */
  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void aDuplicateClientIdIsDetectedAndDoesNotStorm(String kind) throws Exception {
    String url;
    if (kind.equals("moquette")) {
      TestBroker b = TestBroker.start(dir.resolve("moquette"));
      broker = b;
      url = b.url();
    } else {
      MosquittoBroker b = MosquittoBroker.start(dir, null);
      broker = b;
      url = b.url();
    }
    Object[] detector = {
      "duplicate.window.seconds", 5, "duplicate.losses", 3, "duplicate.backoff.millis", 30_000
    };
    PahoMqttTransport first = transport(url, "twin", detector);
    Await.until(() -> first.state() == ConnectionState.CONNECTED, "the first twin connects");
    PahoMqttTransport second = transport(url, "twin", detector);
    Await.until(
        () ->
            first.status().duplicateClientIdSuspected()
                || second.status().duplicateClientIdSuspected(),
        Duration.ofSeconds(20),
        () -> "a duplicate client id is suspected");
    PahoMqttTransport suspected = first.status().duplicateClientIdSuspected() ? first : second;
    assertTrue(suspected.status().lastError().isPresent(), "the status says what happened");
    long before = first.status().reconnectCount() + second.status().reconnectCount();
    Thread.sleep(3_000);
    long after = first.status().reconnectCount() + second.status().reconnectCount();
    assertTrue(
        after - before <= 2,
        "no reconnect storm: " + (after - before) + " reconnections in 3 s after the detection");
    assertTrue(suspected.status().duplicateClientIdSuspected(), "still backing off hard");
  }
}
