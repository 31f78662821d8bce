/** The Milestone documents and strings, byte for byte; the schema's defaults; ISO times with offsets. */
import { XMLParser } from "fast-xml-parser";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import {
  analyticsEventXml,
  type Config,
  genericEventText,
  portOf,
  schema,
} from "../../firmware/actions/milestone-event.js";
import { isoWithOffset } from "../../firmware/util/time.js";
import { eventView } from "../helpers/event-view.js";

const ID = "6f1c2d3e-4a5b-4c6d-8e7f-001122334455";

const config = (over: Record<string, unknown> = {}): Config =>
  Compile(schema).Default({ type: "milestone-event", host: "xprotect-es", ...over }) as Config;

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", parseTagValue: false });

describe("milestone-event analytics document", () => {
  it("is protocols.md §4.1's AnalyticsEvent, in the schema's element order", () => {
    const xml = analyticsEventXml(
      config({
        cameraRefs: { cam1: "192.168.1.50" },
        timeZone: "Europe/Berlin",
        customTag: "gate",
        location: "Gate {lane}",
      }),
      eventView(),
      ID,
    );
    expect(xml).toBe(
      '<?xml version="1.0" encoding="utf-8"?>' +
        '<AnalyticsEvent xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:milestone-systems">' +
        `<EventHeader><ID>${ID}</ID><Timestamp>2025-03-01T08:15:02.120+01:00</Timestamp>` +
        "<Type>ANPR allow</Type><Message>ANPR allow</Message><CustomTag>gate</CustomTag>" +
        "<Source><Name>192.168.1.50</Name></Source></EventHeader>" +
        "<Description>AB123CD allow on lane 1 (Allow): on list Allow</Description>" +
        "<Location>Gate 1</Location>" +
        "<ObjectList><Object><Name>LicensePlate</Name><Confidence>0.94</Confidence><Value>AB123CD</Value>" +
        "<AlarmTrigger>true</AlarmTrigger></Object></ObjectList>" +
        "<Vendor><Name>Portcullis</Name></Vendor></AnalyticsEvent>",
    );
  });

  it("a camera GUID becomes Source/FQID with the camera Kind; a new GUID per event; summer time offset", () => {
    const guid = "3A4AD4EA-0000-4000-8000-000000000001";
    const c = config({ cameraRefs: { cam1: guid }, timeZone: "Europe/Berlin" });
    const ev = eventView({ receivedAt: "2025-07-01T10:00:00.000Z", confidence: null });
    const doc = parser.parse(analyticsEventXml(c, ev));
    const header = doc.AnalyticsEvent.EventHeader;
    expect(header.Source).toEqual({
      FQID: { ObjectId: guid, FolderType: "0", Kind: "5135BA21-F1DC-4321-806A-6CE2017343C0" },
    });
    expect(header.Timestamp).toBe("2025-07-01T12:00:00.000+02:00");
    expect(doc.AnalyticsEvent.ObjectList.Object.Confidence).toBeUndefined();
    const again = parser.parse(analyticsEventXml(c, ev)).AnalyticsEvent.EventHeader.ID;
    expect(again).not.toBe(header.ID);
  });

  it("escapes template text and plate-free fields; drops characters XML forbids; unmapped camera: `source` or none", () => {
    const c = config({
      eventType: "Gate <A&B>",
      message: "{plate} {decision}\u0001",
      description: "list={list}",
      source: "Default cam",
    });
    const xml = analyticsEventXml(c, eventView({ listName: 'R&D "<x>"', cameraId: "other" }), ID);
    expect(xml).toContain("<Type>Gate &lt;A&amp;B&gt;</Type><Message>AB123CD allow</Message>");
    expect(xml).toContain('<Description>list=R&amp;D "&lt;x&gt;"</Description>');
    expect(xml).toContain("<Source><Name>Default cam</Name></Source>");
    const doc = parser.parse(xml);
    expect(doc.AnalyticsEvent.Description).toBe('list=R&D "<x>"');
    const none = analyticsEventXml(config({ description: "" }), eventView(), ID);
    expect(none).not.toContain("<Source>");
    expect(none).not.toContain("<Description>");
  });

  it("an unknown time zone writes UTC rather than throw on the decision path", () => {
    const xml = analyticsEventXml(config({ timeZone: "Mars/Olympus" }), eventView(), ID);
    expect(xml).toContain("<Timestamp>2025-03-01T07:15:02.120+00:00</Timestamp>");
  });
});

describe("milestone-event generic string", () => {
  it("fills the template, folds to US-ASCII and ends with the terminator", () => {
    const ev = eventView({ plate: "MÜPC1234", decision: "deny" });
    expect(genericEventText(config({ mode: "generic" }), ev)).toBe("ANPR;1;MUPC1234;deny\r\n");
    expect(
      genericEventText(
        config({
          mode: "generic",
          text: "{source}|{plate}",
          terminator: "none",
          cameraRefs: { cam1: "gate1" },
        }),
        ev,
      ),
    ).toBe("gate1|MUPC1234");
    // No ref and no `source`: our camera id.
    expect(genericEventText(config({ mode: "generic", text: "{source}", terminator: "lf" }), ev)).toBe(
      "cam1\n",
    );
  });
});

describe("milestone-event settings", () => {
  it("defaults: analytics on 9090, generic on 1234; an explicit port wins", () => {
    const c = config();
    expect(c).toMatchObject({
      mode: "analytics",
      eventType: "ANPR {decision}",
      vendor: "Portcullis",
      timeZone: "UTC",
    });
    expect(portOf(c)).toBe(9090);
    expect(portOf(config({ mode: "generic" }))).toBe(1234);
    expect(portOf(config({ mode: "generic", port: 1235 }))).toBe(1235);
    expect(Compile(schema).Check({ ...c, mode: "udp" })).toBe(false);
    expect(Compile(schema).Check({ ...c, extra: 1 })).toBe(false);
  });
});

describe("isoWithOffset", () => {
  it("writes local time with the zone's offset, negative and half-hour ones included", () => {
    const t = Date.parse("2025-01-15T12:00:00.005Z");
    expect(isoWithOffset(t, "UTC")).toBe("2025-01-15T12:00:00.005+00:00");
    expect(isoWithOffset(t, "America/New_York")).toBe("2025-01-15T07:00:00.005-05:00");
    expect(isoWithOffset(t, "Asia/Kolkata")).toBe("2025-01-15T17:30:00.005+05:30");
    for (const zone of ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin"])
      expect(Date.parse(isoWithOffset(t, zone))).toBe(t);
  });
});
