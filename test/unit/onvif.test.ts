import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { backoffMs } from "../../firmware/ingest/backoff.js";
import {
  type Notification,
  parsePullMessages,
  plateReadOf,
  topicMatches,
} from "../../firmware/ingest/onvif-events.js";
import {
  buildEnvelope,
  OnvifError,
  parseReply,
  passwordDigest,
  referenceParameters,
  usernameToken,
} from "../../firmware/ingest/onvif-soap.js";
import { IngestError } from "../../firmware/ingest/types.js";
import {
  envelopeXml,
  faultXml,
  notificationXml,
  PLATE_TOPIC,
  plateNotificationXml,
  prefixer,
  pullMessagesXml,
} from "../sim/onvif.js";

const TIMES = { current: "2025-03-01T08:15:03Z", termination: "2025-03-01T08:16:03Z" };
const plain = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: "@_" });

function only(xml: string): Notification {
  const result = parsePullMessages(xml);
  expect(result.notifications).toHaveLength(1);
  return result.notifications[0] as Notification;
}

describe("WS-Security UsernameToken", () => {
  it("computes the PasswordDigest of the ONVIF Application Programmer's Guide example", () => {
    const nonce = Buffer.from("LKqI6G/AikKCQrN0zqZFlg==", "base64");
    expect(passwordDigest(nonce, "2010-09-16T07:50:45Z", "userpassword")).toBe(
      "tuOSpGlFlIXsozq4HFNeeGeFLEI=",
    );
  });

  it("builds the token from the camera's clock in whole UTC seconds", () => {
    const nonce = Buffer.from("LKqI6G/AikKCQrN0zqZFlg==", "base64");
    const token = usernameToken(
      { username: "user", password: "userpassword" },
      Date.parse("2010-09-16T07:50:45.678Z"),
      nonce,
    ) as any;
    const t = token["wsse:UsernameToken"];
    expect(t["wsu:Created"]).toBe("2010-09-16T07:50:45Z");
    expect(t["wsse:Password"]["#text"]).toBe("tuOSpGlFlIXsozq4HFNeeGeFLEI=");
    expect(t["wsse:Password"]["@_Type"]).toMatch(/#PasswordDigest$/);
    expect(t["wsse:Nonce"]["#text"]).toBe("LKqI6G/AikKCQrN0zqZFlg==");
  });
});

describe("request envelopes", () => {
  it("carry WS-Addressing headers, the token and the body; never the password; escape the user name", () => {
    const xml = buildEnvelope({
      action: "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest",
      body: { "tev:PullMessages": { "tev:Timeout": "PT5S", "tev:MessageLimit": "10" } },
      credentials: { username: "gate&<op>", password: "s3cret-Pa55" },
      clockMs: Date.parse("2025-03-01T08:15:00Z"),
      to: "http://192.0.2.10/onvif/subscription/7?a=1&b=2",
    });
    expect(xml).not.toContain("s3cret-Pa55");
    const env = plain.parse(xml).Envelope;
    expect(env.Header.Action).toMatch(/PullMessagesRequest$/);
    expect(env.Header.To).toBe("http://192.0.2.10/onvif/subscription/7?a=1&b=2");
    expect(env.Header.MessageID).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(env.Header.ReplyTo.Address).toBe("http://www.w3.org/2005/08/addressing/anonymous");
    expect(env.Header.Security.UsernameToken.Username).toBe("gate&<op>");
    expect(env.Header.Security.UsernameToken.Created).toBe("2025-03-01T08:15:00Z");
    expect(env.Body.PullMessages).toEqual({ Timeout: "PT5S", MessageLimit: 10 });
    expect(xml).toMatch(/xmlns:tev="http:\/\/www\.onvif\.org\/ver10\/events\/wsdl"/);
  });

  it("copy the subscription's reference parameters as headers, with the namespaces they use", () => {
    const reply = envelopeXml(
      `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>http://192.0.2.10/onvif/services</wsa:Address><wsa:ReferenceParameters><sim:SubscriptionId>42</sim:SubscriptionId></wsa:ReferenceParameters></tev:SubscriptionReference></tev:CreatePullPointSubscriptionResponse>`,
    );
    const params = referenceParameters(reply);
    expect(params).toContain('xmlns:sim="urn:portcullis:onvif-sim"');
    expect(params).toContain('wsa:IsReferenceParameter="true"');
    const xml = buildEnvelope({ action: "a", body: { "wsnt:Unsubscribe": "" }, referenceParameters: params });
    expect(plain.parse(xml).Envelope.Header.SubscriptionId["#text"]).toBe(42);
    expect(referenceParameters(pullMessagesXml([], TIMES))).toBe("");
  });
});

describe("PullMessages replies", () => {
  it.each(["standard", "numbered", "none"] as const)(
    "reads a plate notification with %s prefixes",
    (style) => {
      const xml = pullMessagesXml(
        [
          plateNotificationXml(
            { plate: "AB-123-CD", confidence: 91, country: "DE", direction: "approach", phase: "new" },
            "2025-03-01T08:15:02.250Z",
            prefixer(style === "none" ? "none" : style),
          ),
        ],
        TIMES,
        style,
      );
      const result = parsePullMessages(xml);
      expect(result).toMatchObject({ currentTime: TIMES.current, terminationTime: TIMES.termination });
      const read = plateReadOf(result.notifications[0] as Notification);
      expect(read).toMatchObject({
        plate: { raw: "AB-123-CD", normalised: "AB123CD" },
        confidence: 91,
        direction: "approach",
        phase: "new",
        cameraTimeRaw: "2025-03-01T08:15:02.250Z",
        cameraTime: Date.parse("2025-03-01T08:15:02.250Z"),
        extras: {
          country: "DE",
          topic: "RuleEngine/LicensePlateDetector/LicensePlate",
          videoSource: "VideoSourceToken",
          rule: "MyLicensePlateDetectorRule",
          picturePath: "/LPR/2018051506193401.jpg",
        },
      });
      expect(read.extras).not.toHaveProperty("directionRaw");
    },
  );

  it("reads Milesight's form: the plate in Key as LicensePlateResult, PropertyOperation Changed (specs/002)", () => {
    const milesight = `<wsnt:NotificationMessage>
<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RuleEngine/LicensePlateDetector/LicensePlate</wsnt:Topic>
<wsnt:Message>
<tt:Message UtcTime="2018-05-15T06:19:34Z" PropertyOperation="Changed">
<tt:Source>
<tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VideoSourceToken"/>
<tt:SimpleItem Name="VideoAnalyticsConfigurationToken" Value="VideoAnalyticsToken"/>
<tt:SimpleItem Name="Rule" Value="MyLicensePlateDetectorRule"/>
</tt:Source>
<tt:Key>
<tt:SimpleItem Name="LicensePlateResult" Value="43거6510"/>
</tt:Key>
<tt:Data>
<tt:SimpleItem Name="LicensePlatePicturePath" Value="/LPR/2018051506193401.jpg"/>
<tt:SimpleItem Name="LicenseCarSpeed" Value="25km/h"/>
<tt:SimpleItem Name="LicenseCarDirection" Value="1"/>
</tt:Data>
</tt:Message>
</wsnt:Message>
</wsnt:NotificationMessage>`;
    const read = plateReadOf(only(pullMessagesXml([milesight], TIMES)));
    expect(read).toMatchObject({
      plate: { normalised: "43거6510" },
      confidence: null,
      direction: null,
      phase: "update",
      cameraTime: Date.parse("2018-05-15T06:19:34Z"),
      extras: { speed: "25km/h", directionRaw: "1", picturePath: "/LPR/2018051506193401.jpg" },
    });
  });

  it("takes PlateNumber with a 0–1 Likelihood, decodes character references, maps Deleted to lost", () => {
    const n = only(
      pullMessagesXml(
        [
          notificationXml("tns1:RuleEngine/LicensePlateDetector/LicensePlate", {
            utcTime: "2025-03-01T08:15:02Z",
            operation: "Deleted",
            data: { PlateNumber: "M\u00dc-PC 1234", Likelihood: "0.61" },
          }).replace("MÜ-PC 1234", "M&#220;-PC&#x20;1234"),
        ],
        TIMES,
      ),
    );
    expect(plateReadOf(n)).toMatchObject({
      plate: { raw: "MÜ-PC 1234", normalised: "MÜPC1234" },
      confidence: 61,
      phase: "lost",
    });
  });

  it("refuses a plate notification without a plate or with a bad confidence, naming the item", () => {
    const without = only(
      pullMessagesXml([notificationXml(PLATE_TOPIC, { utcTime: "x", data: { Confidence: "90" } })], TIMES),
    );
    expect(() => plateReadOf(without)).toThrow(IngestError);
    expect(() => plateReadOf(without)).toThrow(/no plate item/);
    const bad = only(
      pullMessagesXml(
        [notificationXml(PLATE_TOPIC, { utcTime: "x", data: { LicensePlate: "AB1", Confidence: "250" } })],
        TIMES,
      ),
    );
    expect(() => plateReadOf(bad)).toThrow(/SimpleItem.Confidence: expected a confidence/);
    expect(
      plateReadOf(
        only(
          pullMessagesXml(
            [notificationXml(PLATE_TOPIC, { utcTime: "x", data: { LicensePlate: "AB1" } })],
            TIMES,
          ),
        ),
      ).cameraTime,
    ).toBeNull();
  });

  it("matches topics whatever their prefixes; sub-topics and alternatives too", () => {
    expect(topicMatches("ns2:RuleEngine/LicensePlateDetector/LicensePlate", PLATE_TOPIC)).toBe(true);
    expect(topicMatches("RuleEngine/LicensePlateDetector/LicensePlate/Lane1", PLATE_TOPIC)).toBe(true);
    expect(topicMatches("tns1:RuleEngine/LicensePlateDetector", PLATE_TOPIC)).toBe(false);
    expect(topicMatches("tns1:RuleEngine/CellMotionDetector/Motion", PLATE_TOPIC)).toBe(false);
    expect(
      topicMatches(
        "tnsaxis:CameraApplicationPlatform/ALPV.AllPlates",
        `${PLATE_TOPIC}|tnsaxis:CameraApplicationPlatform/ALPV.AllPlates`,
      ),
    ).toBe(true);
    expect(topicMatches("tns1:RuleEngine/X/Y", "tns1:RuleEngine//.")).toBe(true);
  });

  it("turns SOAP faults into errors that say what the camera said; auth faults are marked", () => {
    const notAuthorized = envelopeXml(faultXml("Sender", "ter:NotAuthorized", "Sender not Authorized"));
    const err = (() => {
      try {
        parseReply(notAuthorized, 400, 0);
      } catch (e) {
        return e as OnvifError;
      }
      throw new Error("no error");
    })();
    expect(err).toBeInstanceOf(OnvifError);
    expect(err).toMatchObject({ kind: "fault", auth: true });
    expect(err.message).toBe("SOAP fault s:Sender/ter:NotAuthorized: Sender not Authorized (HTTP 400)");
    const soap11 = `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault><faultcode>e:Server</faultcode><faultstring>busy</faultstring></e:Fault></e:Body></e:Envelope>`;
    expect(() => parseReply(soap11, 500, 0)).toThrow("SOAP fault e:Server: busy (HTTP 500)");
    expect(() => parseReply("<html>Not Found</html>", 404, 0)).toThrow("HTTP 404");
    expect(() => parseReply("<a><b></a>", 200, 0)).toThrow(/malformed XML/);
    expect(() => parseReply("<a/>", 200, 0)).toThrow(/not a SOAP envelope/);
    expect(() => parseReply("", 200, 0)).toThrow(/empty reply/);
    expect(() => parseReply("", 503, 0)).toThrow("HTTP 503");
    expect(() => parsePullMessages(envelopeXml("<tev:RenewResponse/>"))).toThrow(
      /expected PullMessagesResponse/,
    );
  });
});

describe("reconnecting", () => {
  it("backs off exponentially with jitter, capped; refused credentials wait the cap at once", () => {
    const S = { backoffMinMs: 100, backoffMaxMs: 1000 };
    expect(backoffMs(0, S, false, () => 0)).toBe(50);
    expect(backoffMs(0, S, false, () => 1)).toBe(100);
    expect(backoffMs(3, S, false, () => 1)).toBe(800);
    expect(backoffMs(30, S, false, () => 1)).toBe(1000);
    expect(backoffMs(30, S, false, () => 0)).toBe(500);
    expect(backoffMs(0, S, true, () => 1)).toBe(1000);
  });
});
