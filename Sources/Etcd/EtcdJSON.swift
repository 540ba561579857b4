import Foundation

/// The JSON of etcd's gRPC gateway: bytes as base64, int64 as decimal strings, fields at their
/// zero value left out of answers.
enum EtcdJSON {
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func operation(_ operation: EtcdOperation) -> [String: Any] {
        switch operation {
        case .range(let key, let rangeEnd):
            var request: [String: Any] = ["key": base64(key)]
            if let rangeEnd { request["range_end"] = base64(rangeEnd) }
            return ["request_range": request]
        case .put(let key, let value, let lease):
            var request: [String: Any] = ["key": base64(key), "value": base64(value)]
            if lease != 0 { request["lease"] = String(lease) }
            return ["request_put": request]
        case .deleteRange(let key, let rangeEnd):
            var request: [String: Any] = ["key": base64(key)]
            if let rangeEnd { request["range_end"] = base64(rangeEnd) }
            return ["request_delete_range": request]
        }
    }

    static func compare(_ compare: EtcdCompare) -> [String: Any] {
        var object: [String: Any] = ["key": base64(compare.key), "result": compare.result.rawValue]
        switch compare.target {
        case .version(let v): object["target"] = "VERSION"; object["version"] = String(v)
        case .createRevision(let r): object["target"] = "CREATE"; object["create_revision"] = String(r)
        case .modRevision(let r): object["target"] = "MOD"; object["mod_revision"] = String(r)
        case .value(let bytes): object["target"] = "VALUE"; object["value"] = base64(bytes)
        }
        return object
    }

    /// Reads answers, naming where they came from in errors.
    struct Reader {
        let endpoint: String

        func malformed(_ detail: String) -> EtcdError { .malformedResponse(endpoint: endpoint, detail: detail) }

        func object(_ body: [UInt8]) throws(EtcdError) -> [String: Any] {
            guard let value = try? JSONSerialization.jsonObject(with: Data(body)), let object = value as? [String: Any] else {
                throw malformed("not a JSON object: \(String(decoding: body.prefix(120), as: UTF8.self))")
            }
            return object
        }

        /// An int64 field: a decimal string (or a number), absent meaning 0.
        func int(_ object: [String: Any], _ field: String) throws(EtcdError) -> Int64 {
            switch object[field] {
            case nil: return 0
            case let text as String:
                guard let value = Int64(text) else { throw malformed("\(field) is \"\(text)\", not an integer") }
                return value
            case let number as NSNumber: return number.int64Value
            default: throw malformed("\(field) is not an integer")
            }
        }

        func bytes(_ object: [String: Any], _ field: String) throws(EtcdError) -> [UInt8] {
            guard let text = object[field] as? String else {
                if object[field] == nil { return [] }
                throw malformed("\(field) is not a base64 string")
            }
            guard let data = Data(base64Encoded: text) else { throw malformed("\(field) is not valid base64") }
            return [UInt8](data)
        }

        func keyValue(_ object: [String: Any]) throws(EtcdError) -> EtcdKeyValue {
            EtcdKeyValue(key: try bytes(object, "key"), value: try bytes(object, "value"),
                         createRevision: try int(object, "create_revision"), modRevision: try int(object, "mod_revision"),
                         version: try int(object, "version"), lease: try int(object, "lease"))
        }

        func keyValues(_ object: [String: Any]) throws(EtcdError) -> [EtcdKeyValue] {
            guard let list = object["kvs"] else { return [] }
            guard let items = list as? [[String: Any]] else { throw malformed("kvs is not a list of objects") }
            var result: [EtcdKeyValue] = []
            for item in items { result.append(try keyValue(item)) }
            return result
        }

        func revision(_ object: [String: Any]) throws(EtcdError) -> Int64 {
            guard let header = object["header"] as? [String: Any] else { throw malformed("no header") }
            return try int(header, "revision")
        }

        func operationResult(_ object: [String: Any]) throws(EtcdError) -> EtcdOperationResult {
            if let range = object["response_range"] as? [String: Any] { return .range(try keyValues(range)) }
            if object["response_put"] != nil { return .put }
            if let delete = object["response_delete_range"] as? [String: Any] { return .deleteRange(deleted: try int(delete, "deleted")) }
            throw malformed("an unknown operation result: \(object.keys.sorted())")
        }
    }
}
