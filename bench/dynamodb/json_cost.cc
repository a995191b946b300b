// PutItem request serialise + GetItem answer parse, RapidJSON vs nlohmann-json: the measurement
// behind the DynamoDB driver's JSON library (README, "Dependencies"). Not part of the build:
//   g++ -O2 -std=c++20 bench/dynamodb/json_cost.cc -o /tmp/json_cost && /tmp/json_cost
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
std::string b64v(180, 'Q');  // a 135-byte value, base64
std::string answer =
    "{\"Item\":{\"p\":{\"B\":\"cGFydGl0aW9u\"},\"k\":{\"B\":\"a2V5LTEyMzQ1\"},\"v\":{\"B\":\"" +
    b64v + "\"}}}";
size_t sink = 0;
void Rapid() {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("TableName");
  w.String("refkv_table");
  w.Key("Item");
  w.StartObject();
  w.Key("p");
  w.StartObject();
  w.Key("B");
  w.String("cGFydGl0aW9u");
  w.EndObject();
  w.Key("k");
  w.StartObject();
  w.Key("B");
  w.String("a2V5LTEyMzQ1");
  w.EndObject();
  w.Key("v");
  w.StartObject();
  w.Key("B");
  w.String(b64v.c_str(), b64v.size());
  w.EndObject();
  w.EndObject();
  w.Key("ConditionExpression");
  w.String("attribute_not_exists(#k)");
  w.Key("ExpressionAttributeNames");
  w.StartObject();
  w.Key("#k");
  w.String("k");
  w.EndObject();
  w.EndObject();
  sink += buf.GetSize();
  rapidjson::Document d;
  d.Parse(answer.data(), answer.size());
  sink += d["Item"]["v"]["B"].GetStringLength();
}
void Nlohmann() {
  nlohmann::json j;
  j["TableName"] = "refkv_table";
  j["Item"] = {
      {"p", {{"B", "cGFydGl0aW9u"}}}, {"k", {{"B", "a2V5LTEyMzQ1"}}}, {"v", {{"B", b64v}}}};
  j["ConditionExpression"] = "attribute_not_exists(#k)";
  j["ExpressionAttributeNames"] = {{"#k", "k"}};
  sink += j.dump().size();
  auto d = nlohmann::json::parse(answer);
  sink += d["Item"]["v"]["B"].get_ref<const std::string&>().size();
}
template <typename F>
double Time(F f) {
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100000; ++i) f();
    best = std::min(
        best,
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
            100000);
  }
  return best;
}
int main() {
  for (int round = 0; round < 2; ++round) {
    double r = Time(Rapid), n = Time(Nlohmann);
    printf("rapidjson %.2f us  nlohmann %.2f us  ratio %.1fx\n", r, n, n / r);
  }
  return sink == 0;
}
